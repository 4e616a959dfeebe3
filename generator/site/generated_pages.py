"""The pages press writes as Markdown for MkDocs to render in the theme: the newsletter archive
(its index, each issue and the archived emails beside them), the tags index, /subscribe/ and,
in the preview, the coming email. One step of the press plugin (plugin.py).

They are converted by the site's one Markdown parser. Under `press build --jobs N` a forked
process converts the newsletter pages (the bulk of them, an email's worth of HTML each) while
MkDocs reads the posts, and the pages take their HTML only when it is first needed, before
the pages are written (`defer`, `finish`): MkDocs reads the other pages and writes the theme's
own meanwhile, instead of waiting for the process (so does the first build of `press serve`,
which fingerprints its pages once they are filled: built_pages.py). `press serve` remembers
across its builds
(`remembers`): the issues by their articles and links, the conversions by their Markdown, so
a new plan of the site converts and renders only what changed; a single build would only
hold on to what it no longer needs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date
from functools import partial
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.utils.meta import get_data

from generator.content.articles import Article
from generator.content.markup import link_values
from generator.content.site_config import SiteConfig
from generator.digest.preview import prepare_upcoming, sample_copy
from generator.site.cached_pages import anchor_ids, link_targets, relative_links
from generator.site.forked import Forked
from generator.site.newsletter import INDEX, newsletter_pages, subscribe_page
from generator.site.options import BuildOptions
from generator.site.session_memo import SessionMemo
from generator.site.tags import TAGS_INDEX, tag_pages
from generator.tokens import Signer

PREVIEW_HTML = "newsletter/preview/index.html"
PREVIEW_TEXT = "newsletter/preview.txt"

Conversion = tuple[str, list[dict[str, Any]]]  # HTML and table of contents


class GeneratedPages:
    def __init__(self) -> None:
        self.remembers = False
        self.conversions: SessionMemo[Conversion] = SessionMemo()
        self.issues: SessionMemo[Any] = SessionMemo()
        self.ahead: dict[str, Conversion] = {}  # converted ahead, each used once
        # Under `press serve`: each page's HTML with its links made relative to it, by what
        # decides that (the HTML, the page, where its links lead now), and the ids it offers.
        self.relatives: SessionMemo[str] = SessionMemo()
        self.links: SessionMemo[tuple[str, ...]] = SessionMemo()
        self.anchors: SessionMemo[set[str]] = SessionMemo()
        self.converting: Forked[dict[str, Any]] | None = None
        self.deferring = False  # pages may take their HTML at `finish` (see the docstring)
        self.pending: list[Callable[[], None]] = []

    def next_build(self) -> None:
        for memo in self._memos:
            memo.next_build()

    def forget(self) -> None:
        """Drops what earlier builds made: the next may have other settings or templates."""
        for memo in self._memos:
            memo.forget()

    @property
    def _memos(self) -> tuple[SessionMemo[Any], ...]:
        return (self.conversions, self.issues, self.relatives, self.links, self.anchors)

    def add(
        self,
        files: Files,
        config: MkDocsConfig,
        site: SiteConfig,
        articles: list[Article],
        options: BuildOptions,
    ) -> None:
        """Every generated page, into MkDocs' files."""
        made = options.newsletter
        newsletter = made() if made else self.newsletter(site, articles, options)
        _add_listed(files, config, newsletter, INDEX)
        if options.jobs > 1:
            texts = [text for uri, text in newsletter.items() if uri.endswith(".md")]
            self.converting = Forked(partial(_convert_all, site.markdown, texts))
            # A plugin's `on_page_content` reads the HTML as each page is read: none may wait.
            self.deferring = not config.plugins.events["page_content"]
        _add_listed(files, config, tag_pages(site, articles, options.now), TAGS_INDEX)
        _add_listed(files, config, subscribe_page(site), "")
        if options.email_preview:
            for uri, content in self.email_preview(site, articles, options).items():
                files.append(File.generated(config, uri, content=content))

    def newsletter(
        self,
        site: SiteConfig,
        articles: list[Article],
        options: BuildOptions,
        days: Collection[date] | None = None,
    ) -> dict[str, str]:
        """The newsletter archive's pages and emails by path; with `days`, only those issues'
        and the index."""
        memo = self.issues if self.remembers else None
        return newsletter_pages(site, articles, options.now, days, memo)

    def email_preview(
        self, site: SiteConfig, articles: list[Article], options: BuildOptions
    ) -> dict[str, str]:
        """The coming issue as static files, so the live preview serves and reloads them."""
        issue, rendered = prepare_upcoming(site, articles, options.now, options.include_drafts)
        if rendered is None:
            note = f"No article is dated in the week of the {issue:%d/%m/%Y} digest yet."
            parts = {"email.html": f"<!DOCTYPE html><title>Digest preview</title><p>{note}</p>"}
            parts["email.txt"] = note + "\n"
        else:
            parts = sample_copy(site, rendered, Signer.from_environment(allow_preview=True))
        return {PREVIEW_HTML: parts["email.html"], PREVIEW_TEXT: parts["email.txt"]}

    def defer(self, fill: Callable[[], None]) -> bool:
        """Takes a page's `fill` (its conversion) for `finish` when a process is converting
        the pages; False: fill it now."""
        if not self.deferring:
            return False
        self.pending.append(fill)
        return True

    def finish(self) -> None:
        """The deferred pages get their HTML (before MkDocs' pages are written)."""
        pending, self.pending, self.deferring = self.pending, [], False
        for fill in pending:
            fill()

    def convert(self, site: SiteConfig, markdown: str) -> Conversion:
        """A generated page's Markdown as HTML: converted ahead, remembered, or now."""
        if self.converting is not None:
            job, self.converting = self.converting, None
            self.ahead = job.result()
        renderer = site.markdown
        made = self.ahead.pop(markdown, None)
        if not self.remembers:
            return made or renderer.render(markdown)
        if made is not None:
            self.conversions.remember(markdown, made)
        return self.conversions.get(markdown, lambda: renderer.render(markdown))

    def relative(self, html: str, src_uri: str, page_url: str, files: Files) -> str:
        """A generated page's HTML with its links relative to the page (cached_pages.py)."""
        if not self.remembers:
            return relative_links(html, src_uri, page_url, files)
        links = self.links.get(html, lambda: tuple(link_values(html)))
        key = (html, src_uri, page_url, tuple(link_targets(links, src_uri, files)))
        return self.relatives.get(key, lambda: relative_links(html, src_uri, page_url, files))

    def anchor_ids(self, html: str) -> set[str]:
        if not self.remembers:
            return anchor_ids(html)
        return self.anchors.get(html, lambda: anchor_ids(html))

    def stop(self) -> None:
        """The converting process is not waited for (a failed build, or the end of one)."""
        self.pending, self.deferring = [], False
        if self.converting is not None:
            self.converting.abandon()
            self.converting = None


def _convert_all(renderer: Any, sources: list[str]) -> dict[str, Any]:
    """Each page's Markdown, as MkDocs reads it from its source (without the front matter),
    converted."""
    bodies = [get_data(source)[0] for source in sources]
    return {body: renderer.render(body) for body in bodies}


def _add_listed(files: Files, config: MkDocsConfig, pages: dict[str, str], index: str) -> None:
    """Generated pages: the index goes in the navigation, the pages it lists do not."""
    for src_uri, content in pages.items():
        page = File.generated(config, src_uri, content=content)
        if src_uri.endswith(".md") and src_uri != index:
            page.inclusion = InclusionLevel.NOT_IN_NAV
        files.append(page)
