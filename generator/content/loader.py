"""Load every article and check what no single file can: duplicates and links between them."""

from __future__ import annotations

import multiprocessing
import re
from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from generator.content.articles import Article, read_article
from generator.content.problems import ContentError, Problem, display_path, errors_of
from generator.content.site_config import SiteConfig, read_site

LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~)")


def article_files(config: SiteConfig) -> list[Path]:
    return sorted(config.posts_dir.rglob("*.md"))


def read_content(
    root: Path, jobs: int = 1, unchanged: Mapping[Path, Article] | None = None
) -> tuple[SiteConfig | None, list[Article], list[Problem]]:
    """Everything `press check` reports, in one pass; never raises for bad content.

    With `jobs` > 1 the articles are read (and those the render cache lacks converted) by
    that many processes; the result is the same, in the same order. `unchanged` holds
    articles read before from files not changed since (`press serve`), and reused."""
    config, problems = read_site(root)
    if config is None:
        return None, [], problems
    files = article_files(config)
    kept = unchanged or {}
    new = [path for path in files if path not in kept]
    read = dict(zip(new, _read_articles(new, config, jobs), strict=True))
    articles: list[Article] = []
    for article, found in (read[f] if f in read else (kept[f], []) for f in files):
        problems += found
        if article:
            articles.append(article)
    problems += problems_together(articles, config)
    return config, articles, problems


def problems_together(articles: list[Article], config: SiteConfig) -> list[Problem]:
    """What is wrong with the articles as a set: URLs taken twice, links to no article, tags
    that nearly repeat another."""
    problems = duplicate_urls(articles, config)
    problems += broken_links(articles, config)
    problems += near_duplicate_tags(articles, config)
    return problems


def _read_articles(
    files: list[Path], config: SiteConfig, jobs: int
) -> list[tuple[Article | None, list[Problem]]]:
    if jobs <= 1 or len(files) < 4 * jobs:
        return [read_article(path, config) for path in files]
    global _reading
    _reading = (files, config)  # forked workers inherit it; the config holds a parser
    config.markdown.fingerprint  # noqa: B018 - worked out once here, not in every worker
    context = multiprocessing.get_context("fork")
    chunk = max(1, len(files) // (4 * jobs))
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        return list(pool.map(_read_nth, range(len(files)), chunksize=chunk))


_reading: tuple[list[Path], SiteConfig] | None = None


def _read_nth(n: int) -> tuple[Article | None, list[Problem]]:
    assert _reading is not None
    files, config = _reading
    return read_article(files[n], config)


def near_duplicate_tags(articles: list[Article], config: SiteConfig) -> list[Problem]:
    """A tag spelt like another but for case or spacing would split one tag page in two."""
    first: dict[str, tuple[str, Article]] = {}
    problems = []
    for article in sorted(articles, key=lambda a: (a.published, a.source)):
        for tag in article.tags:
            key = " ".join(tag.lower().split())
            known, where = first.setdefault(key, (tag, article))
            if known != tag:
                shown = display_path(article.source, config.root)
                line = _key_line(article.source, "tags") or 1
                message = f"tags: '{tag}' differs from '{known}' only in case or spacing"
                hint = f"use '{known}', as {display_path(where.source, config.root)} does"
                problems.append(Problem(shown, line, 1, message, hint, warning=True))
    return problems


def load_content(
    root: Path, strict: bool = False, jobs: int = 1, unchanged: Mapping[Path, Article] | None = None
) -> tuple[SiteConfig, list[Article]]:
    config, articles, problems = read_content(root, jobs, unchanged)
    if config is None or errors_of(problems, strict):
        raise ContentError(errors_of(problems, strict))
    return config, articles


def reread_article(path: Path, config: SiteConfig, others: list[Article]) -> Article:
    """An article read again after a save, checked as `read_content` checks it among the
    site's other articles (`others` holds its earlier version); raises ContentError."""
    article, problems = read_article(path, config)
    if article is not None:
        everyone = [article if a.source == path else a for a in others]
        problems += broken_links([article], config, {a.path for a in everyone})
        problems += duplicate_urls(everyone, config)
    errors = errors_of(problems, strict=False)
    if errors or article is None:
        raise ContentError(errors)
    return article


def duplicate_urls(articles: list[Article], config: SiteConfig) -> list[Problem]:
    """The older article keeps its URL; each newer one claiming it gets the error."""
    seen: dict[str, Article] = {}
    problems = []
    for article in sorted(articles, key=lambda a: (a.published, a.source)):
        first = seen.setdefault(article.path, article)
        if first is not article:
            where = display_path(first.source, config.root)
            msg = f"slug '{article.slug}' gives URL /{article.path} already used by {where}"
            line = _key_line(article.source, "slug") or _key_line(article.source, "title")
            problems.append(
                Problem(
                    display_path(article.source, config.root),
                    line,
                    1,
                    msg,
                    "set a different 'slug:' in the front matter",
                )
            )
    return problems


def _key_line(path: Path, key: str) -> int:
    lines = path.read_text(encoding="utf-8").split("\n")
    return next((n for n, text in enumerate(lines, 1) if text.startswith(f"{key}:")), 0)


def broken_links(
    articles: list[Article], config: SiteConfig, paths: set[str] | None = None
) -> list[Problem]:
    """Links from an article to a Markdown file or /posts/ URL that is not there; `paths`,
    the site's article paths, when `articles` are only some of them."""
    paths = paths if paths is not None else {a.path for a in articles}
    problems = []
    for article in articles:
        for line, col, target in markdown_links(article):
            if not _link_resolves(target, article.source, paths, config):
                problems.append(
                    Problem(
                        display_path(article.source, config.root),
                        line,
                        col,
                        f"link to '{target}': no such article",
                        "check the file name or slug",
                    )
                )
    return problems


# Per source file, its links as of its last change (modification time and size). The
# content check and the site's link check both go over every article, and `press serve`
# after each new or deleted one: each read every file again (a quarter of a new article's
# update at 1,000 articles); a stat is enough to know a file is as it was.
_links: dict[Path, tuple[tuple[int, int], tuple[tuple[int, int, str], ...]]] = {}


def markdown_links(article: Article) -> tuple[tuple[int, int, str], ...]:
    """Line, column and target of each Markdown link in the article's source file, outside
    code fences."""
    stat = article.source.stat()
    version = (stat.st_mtime_ns, stat.st_size)
    known = _links.get(article.source)
    if known is not None and known[0] == version:
        return known[1]
    links = tuple(_links_in(article.source.read_text(encoding="utf-8")))
    _links[article.source] = (version, links)
    return links


def _links_in(text: str) -> Iterator[tuple[int, int, str]]:
    text = text.replace("\r\n", "\n")
    in_code = False
    for number, line in enumerate(text.split("\n"), start=1):
        if FENCE.match(line.strip()):
            in_code = not in_code
            continue
        if in_code:
            continue
        for match in LINK.finditer(line):
            yield number, match.start(1) + 1, match.group(1)


def _link_resolves(target: str, source: Path, paths: set[str], config: SiteConfig) -> bool:
    bare = target.split("#", 1)[0]
    if bare.endswith(".md"):
        return (source.parent / bare).resolve().is_file()
    if bare.startswith("/posts/"):
        return bare.lstrip("/").rstrip("/") + "/" in paths
    return True
