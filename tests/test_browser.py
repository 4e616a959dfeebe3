"""A reader opens a post in headless Chromium and sees what the page promises."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_post_page_shows_byline_date_share_and_subscribe(browser, site_url: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(site_url + "posts/one-to-ones-that-matter/")
    byline = page.locator(".press-post__byline")
    assert byline.is_visible() and byline.inner_text().startswith("Written by Amara Okafor")
    assert page.locator(".press-post__header time").inner_text() == "02/11/2026"
    for name in ["LinkedIn", "X", "Facebook", "Email", "Copy link"]:
        assert page.get_by_role("link", name=name, exact=True).is_visible()
    email = page.get_by_label("Email address")
    assert email.is_visible()
    assert page.get_by_role("button", name="Subscribe").is_visible()
    assert page.get_by_role("heading", name="Subscribe by Email").is_visible()
    page.close()


def test_post_page_anatomy_point_by_point(browser, site_url: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(site_url + "posts/one-to-ones-that-matter/")
    header = page.locator(".press-post__header")
    assert header.locator(".press-post__blog").text_content() == "The Leadership Press"
    assert page.get_by_role("heading", level=1).inner_text() == "One-to-ones that matter"
    assert header.locator(".press-post__byline").inner_text().startswith("Written by ")
    published = header.locator(".press-post__meta li").first.inner_text()
    assert " ".join(published.split()) == "Published 02/11/2026"
    assert header.locator(".press-post__readtime").inner_text().endswith("min read")
    assert page.locator(".press-post__body h2").count() >= 2  # section headings
    assert page.locator(".press-cta h2").is_visible()  # the closing call to action
    assert page.get_by_role("heading", name="Share").is_visible()
    assert page.get_by_role("heading", name="Read next").is_visible()
    subscribe = page.locator(".press-subscribe")
    assert subscribe.get_by_role("heading", name="Subscribe by Email").is_visible()
    assert "Saturday" in subscribe.inner_text()
    tagline = page.locator("footer .press-tagline")
    assert (
        tagline.is_visible() and tagline.inner_text() == "Practical leadership, one week at a time."
    )
    page.close()


def test_post_page_fits_a_phone(browser, site_url: str) -> None:
    page = browser.new_page(viewport={"width": 375, "height": 800})
    page.goto(site_url + "posts/one-to-ones-that-matter/")
    assert page.locator(".press-subscribe form").is_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    page.close()


def test_search_finds_a_published_article(browser, site_url: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(10_000)
    page.goto(site_url)
    page.locator("input.md-search__input").click()
    page.keyboard.type("reversible")  # Material searches on key events, not on fill()
    # Results update as each key arrives: wait for the ones of the whole word (under load,
    # those of "re" can be on screen first).
    result = page.locator(".md-search-result__item").first
    expect(result).to_contain_text(re.compile("reversible", re.I), timeout=10_000)
    page.close()


def _bundle_requested(page) -> bool:
    names = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    return any("/assets/javascripts/bundle." in name for name in names)


def test_material_script_waits_for_the_first_interaction(browser, site_url: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(site_url + "posts/one-to-ones-that-matter/")
    page.wait_for_load_state("networkidle")
    assert not _bundle_requested(page), "the first paint must not wait for Material's script"
    page.mouse.move(200, 200)
    # Material's script has run when it has turned the palette switch on.
    page.wait_for_function(
        "[...document.querySelectorAll('[data-md-component=palette] label')]"
        ".some(label => !label.hidden)"
    )
    assert _bundle_requested(page)
    page.close()


def test_the_key_that_wakes_material_opens_search(browser, site_url: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(10_000)
    page.goto(site_url)
    page.wait_for_load_state("networkidle")
    page.keyboard.press("/")  # Material's search shortcut, pressed before its script loaded
    page.wait_for_function("document.activeElement.matches('input.md-search__input')")
    page.keyboard.type("reversible")
    # Results follow each key: wait for those of the whole word.
    expect(page.locator(".md-search-result__item").first).to_contain_text(
        re.compile("reversible", re.I)
    )
    page.close()


def test_the_palette_switch_appears_on_first_interaction_and_works(browser, site_url) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, color_scheme="light")
    page.set_default_timeout(10_000)
    page.goto(site_url)
    page.wait_for_load_state("networkidle")
    assert page.get_attribute("body", "data-md-color-scheme") == "default"
    switch = page.locator("label[title='Switch to dark mode']")
    page.mouse.move(640, 30)  # the pointer reaching the header wakes Material
    switch.click()
    page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'slate'")
    page.reload()
    page.wait_for_load_state("networkidle")
    assert page.get_attribute("body", "data-md-color-scheme") == "slate"
    page.close()


def test_a_link_in_the_archived_email_opens_in_the_whole_window(browser, site_url: str) -> None:
    page = browser.new_page()
    # The email links to the public site: answered here, so nothing leaves the machine.
    page.route("https://leadership-press.example.org/**", lambda route: route.fulfill(body="ok"))
    page.goto(site_url + "newsletter/2026-11-21/")
    page.locator("iframe.press-digest-frame").scroll_into_view_if_needed()
    email = page.frame_locator("iframe.press-digest-frame")
    email.get_by_role("link", name="Make the decision reversible").first.click()
    page.wait_for_url("https://leadership-press.example.org/posts/make-the-decision-reversible/**")
    assert page.main_frame.url.startswith("https://leadership-press.example.org/posts/")
    page.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_the_archived_email_frame_is_as_tall_as_the_email(browser, site_url: str, width) -> None:
    """No scroll bar inside the frame and no empty band under the email: the frame's bottom
    rows in a screenshot are the email's own (its footer text), not the page behind it."""
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto(site_url + "newsletter/2026-11-21/")
    frame = page.locator("iframe.press-digest-frame")
    frame.scroll_into_view_if_needed()
    email = page.frame_locator("iframe.press-digest-frame")
    email.get_by_role("button", name="Subscribe").wait_for()
    page.wait_for_function(
        """() => { const f = document.querySelector("iframe.press-digest-frame");
                   const body = f.contentDocument && f.contentDocument.body;
                   return body && Math.abs(f.clientHeight
                       - body.getBoundingClientRect().height) <= 1; }""",
        timeout=5000,
    )
    inner = page.evaluate(
        """() => { const d = document.querySelector("iframe.press-digest-frame").contentDocument;
                   return [d.documentElement.scrollHeight, d.documentElement.clientHeight]; }"""
    )
    assert inner[0] <= inner[1], f"the email scrolls inside its frame: {inner}"
    shot = Image.open(io.BytesIO(frame.screenshot()))
    # The last rows that are not one flat colour: the email's footer ends near the bottom.
    rows = [shot.crop((0, y, shot.width, y + 1)).getcolors(4) is None for y in range(shot.height)]
    last_content = max(y for y, busy in enumerate(rows) if busy)
    band = shot.height - 1 - last_content
    assert band <= 64, f"{band} px of empty band under the email at {width} px"
    assert shot.height > 600  # the whole email, not a collapsed frame
    page.close()
