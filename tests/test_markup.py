"""The one HTML module: ids, links, link rewriting, the one link resolver, markup fixes."""

from __future__ import annotations

from jinja2 import Environment
from selectolax.lexbor import LexborHTMLParser

from generator.content.markup import (
    SourceLink,
    element_ids,
    link_values,
    resolve_source_link,
    rewrite_links,
    splice,
    tag_spans,
)
from generator.site.html_fixes import fix_navigation, fix_template


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


MATERIAL_TEMPLATE = """<!doctype html><html class="no-js"><head><title>t</title>
{% block extrahead %}{% endblock %}
</head><body dir="{{ direction }}">
<input class="md-toggle" type="checkbox" id="__drawer" autocomplete="off">
<input class="md-toggle" type="checkbox" id="__{{ name }}" autocomplete="off">
<div class="md-search" data-md-component="search" role="dialog"></div>
<input type="text" autocomplete="off" name="query">
{% block scripts %}
<script src="{{ 'assets/javascripts/bundle.0123abcd.min.js' | url }}"></script>
{% endblock %}
</body></html>"""


def test_template_fixes_fix_materials_markup_and_defer_its_script():
    fixed = fix_template(MATERIAL_TEMPLATE)
    env = Environment()
    env.filters["url"] = lambda path: "../" + path
    page = env.from_string(fixed).render(direction="ltr", name="search")
    out = LexborHTMLParser(page)
    assert "autocomplete" not in out.css_first("#__drawer").attributes
    # A tag holding template code is left as it is, whatever it renders.
    assert out.css_first("#__search").attributes["autocomplete"] == "off"
    assert out.css_first("input[name=query]").attributes["autocomplete"] == "off"
    assert out.css_first(".md-search").attributes["aria-label"] == "Search"
    assert out.css_first("script[src]") is None  # the bundle waits for an interaction
    loader = out.body.css("script")[-1].text()
    assert '"../assets/javascripts/bundle.0123abcd.min.js"' in loader
    assert 'replace("no-js","js")' in out.head.css("script")[-1].text()
    # Only the tags fixed change: every other byte of the template is as Material wrote it.
    assert fixed.startswith(MATERIAL_TEMPLATE[: MATERIAL_TEMPLATE.index("</head>")])
    assert fixed.endswith("{% endblock %}\n</body></html>")


def test_template_fixes_leave_a_template_without_that_markup_alone():
    source = (
        '<!DOCTYPE html><html><head><title>{{ t }}</title></head><body><input id="__toc" '
        'type="checkbox"><div class="md-search" role="dialog" aria-label="Find"></div>'
        "<script src=\"{{ 'other.js' | url }}\"></script></body></html>"
    )
    assert fix_template(source) == source


def test_the_navigation_fix_drops_empty_tabindex_and_nothing_else():
    nav = '<nav><label class="md-nav__link" tabindex="">Section</label><a href="x">x</a></nav>'
    assert fix_navigation(nav) == (
        '<nav><label class="md-nav__link">Section</label><a href="x">x</a></nav>'
    )
    plain = '<nav><label class="md-nav__link" tabindex="0">Section</label></nav>'
    assert fix_navigation(plain) == plain


TOC = """{% if toc %}
    <label class="md-nav__title" for="__toc">
      <span class="md-nav__icon md-icon"></span>
      {{ title }}
    </label>
{% endif %}"""


def test_the_toc_title_labels_the_toggle_only_where_the_navigation_draws_one():
    env = Environment()
    env.globals["press_toc_toggled"] = lambda page, nav: page in nav.pages
    toc = env.from_string(fix_template(TOC))
    listed, elsewhere = object(), object()
    nav = type("Nav", (), {"pages": [listed]})()
    on_listed = toc.render(toc=True, title="Contents", page=listed, nav=nav)
    on_other = toc.render(toc=True, title="Contents", page=elsewhere, nav=nav)
    assert on_listed == env.from_string(TOC).render(toc=True, title="Contents")
    title = LexborHTMLParser(on_other).css_first(".md-nav__title")
    assert title.tag == "div" and "for" not in title.attributes
    assert " ".join(title.text().split()) == "Contents"


def test_tag_spans_find_tags_in_html_and_in_template_sources():
    text = '<p a=1>\n{% if x < 3 %}<input type="checkbox">{% endif %}</p >'
    spans = tag_spans(text)
    assert [text[s.start : s.end] for s in spans] == ["<p a=1>", '<input type="checkbox">', "</p >"]
    assert [(s.name, s.closing) for s in spans] == [("p", False), ("input", False), ("p", True)]
    assert splice(text, [(spans[1].start, spans[1].end, "<br>")]) == (
        "<p a=1>\n{% if x < 3 %}<br>{% endif %}</p >"
    )
