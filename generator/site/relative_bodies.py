"""Each post's body with its links made relative to its page, worked out ahead.

A post's page shows the article's cached HTML with its links resolved from the page
(`relative_links`): a tokenizer pass over every body, about 7% of the page-writing work at
1,000 articles. Under `press build --jobs N` a forked process makes them all once the
navigation is known, on the CPU the main process leaves idle while MkDocs reads the pages
and writes the theme's own; the page writers, forked after, inherit the results. One step of
the press plugin (plugin.py).
"""

from __future__ import annotations

from functools import partial

from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from generator.content.articles import Article
from generator.site.cached_pages import relative_links
from generator.site.forked import Forked

Post = tuple[str, str, str]  # source URI, page URL, the body's HTML as cached


class RelativeBodies:
    def __init__(self) -> None:
        self.job: Forked[dict[tuple[str, str], str]] | None = None
        self.made: dict[tuple[str, str], str] = {}  # by source URI and page URL

    def start(self, articles: dict[str, Article], files: Files) -> None:
        """Starts the process for the articles' pages among `files`."""
        posts = []
        for src_uri, article in articles.items():
            file = files.get_file_from_path(src_uri)
            if file is not None:
                posts.append((src_uri, file.url, article.body_html))
        self.job = Forked(partial(_relative_all, posts, files))

    def collect(self) -> None:
        """The process's bodies, before the pages are written."""
        if self.job is not None:
            job, self.job = self.job, None
            self.made = job.result()

    def finish(self, page: Page, article: Article, files: Files) -> None:
        """The post's page gets its body, made ahead or now."""
        src_uri = page.file.src_uri
        made = self.made.get((src_uri, page.url))
        if made is None:
            made = relative_links(article.body_html, src_uri, page.url, files)
        page.content = made

    def stop(self) -> None:
        """The end of a build, or a failed one: nothing made is kept, no process waited for."""
        if self.job is not None:
            self.job.abandon()
            self.job = None
        self.made = {}


def _relative_all(posts: list[Post], files: Files) -> dict[tuple[str, str], str]:
    return {(src, url): relative_links(html, src, url, files) for src, url, html in posts}
