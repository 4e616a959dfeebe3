"""The one HTML module: ids, links, link rewriting, the one link resolver, page edits."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from generator.content.markup import (
    SourceLink,
    edit_document,
    element_ids,
    link_values,
    resolve_source_link,
    rewrite_links,
)
from generator.site.first_paint import bundle_on_interaction
from generator.site.html_fixes import MATERIAL_FIXES


def test_ids_and_links_come_from_tags_not_from_text():
    html = (
        '<h2 id="why">Why</h2><p>Write <code>id="not-an-id"</code> and'
        " <code>href=\"nowhere\"</code></p><a href='../a.md#x'>a</a><img src=pic.png alt=''>"
        '<p ID="Upper">x</p>'
    )
    assert element_ids(html) == {"why", "Upper"}
    assert link_values(html) == ["../a.md#x", "pic.png"]
    assert element_ids("<p>no ids</p>") == set() and link_values("<p>plain</p>") == []


def test_rewriting_changes_link_values_and_nothing_else():
    html = (
        "<p>See <a class=x href='a.md' title=\"a &amp; b\">A</a>, "
        '<code>&lt;a href="a.md"&gt;</code> &nbsp;<img alt="" src="p&amp;q.png"/></p>\n'
        "<!-- href=a.md --><br>"
    )
    out = rewrite_links(html, lambda url: url.upper())
    assert out == html.replace("href='a.md'", 'href="A.MD"').replace(
        'src="p&amp;q.png"', 'src="P&amp;Q.PNG"'
    )
    assert rewrite_links("<p>no links</p>", str.upper) == "<p>no links</p>"


def test_one_resolver_for_links_written_in_content_files():
    assert resolve_source_link("../b.md#top", "posts") == SourceLink("b.md", "", "top", "b.md")
    assert resolve_source_link("x%20y.md?q=1", "posts") == SourceLink(
        "posts/x y.md", "q=1", "", "posts/x%20y.md"
    )
    assert resolve_source_link("#here", "posts") == SourceLink("", "", "here", "")
    for elsewhere in ("https://example.org/", "mailto:a@b.c", "//cdn.example/x", "/about/"):
        assert resolve_source_link(elsewhere, "posts") is None


MATERIAL_PAGE = """<!doctype html><html class="no-js"><head><title>t</title></head><body>
<input class="md-toggle" type="checkbox" id="__drawer" autocomplete="off">
<label class="md-nav__link" tabindex="">Section</label>
<label class="md-nav__title" for="__toc"><span>Table</span> of contents</label>
<div class="md-search" data-md-component="search" role="dialog"></div>
<input type="text" autocomplete="off" name="query">
<script src="../assets/javascripts/bundle.0123abcd.min.js"></script>
</body></html>"""


def test_page_edits_fix_materials_markup_and_defer_its_script():
    out = LexborHTMLParser(edit_document(MATERIAL_PAGE, (*MATERIAL_FIXES, bundle_on_interaction)))
    assert "autocomplete" not in out.css_first("#__drawer").attributes
    assert out.css_first("input[name=query]").attributes["autocomplete"] == "off"
    assert "tabindex" not in out.css_first("label.md-nav__link").attributes
    title = out.css_first(".md-nav__title")
    assert title.tag == "div" and title.html == (
        '<div class="md-nav__title"><span>Table</span> of contents</div>'
    )
    assert out.css_first(".md-search").attributes["aria-label"] == "Search"
    assert out.css_first("script[src]") is None  # the bundle waits for an interaction
    loader = out.body.css("script")[-1].text()
    assert '"../assets/javascripts/bundle.0123abcd.min.js"' in loader
    assert 'replace("no-js","js")' in out.head.css("script")[-1].text()


def test_page_edits_leave_a_page_without_that_markup_alone():
    page = (
        '<!DOCTYPE html><html><head><title>t</title></head><body><input id="__toc" '
        'type="checkbox"><label class="md-nav__title" for="__toc">Contents</label>'
        "</body></html>"
    )
    assert edit_document(page, (*MATERIAL_FIXES, bundle_on_interaction)) == page
