"""A reader opens a post in headless Chromium and sees what the page promises."""

from __future__ import annotations

import pytest

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
    result = page.locator(".md-search-result__item").first
    result.wait_for(timeout=10_000)
    assert "reversible" in result.inner_text().lower()
    page.close()
