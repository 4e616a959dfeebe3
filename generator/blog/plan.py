"""The blog plan: every page of the blog computed from the articles and the site settings, with
its URL, title, template, the articles it lists in order and its pagination neighbours.

Pure and engine-free: the same question ("which pages does this edit change?") is answered by
comparing two plans (`pages_changed`), whatever renders them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from generator.content.articles import Article
from generator.content.site_config import Author, SiteConfig
from generator.content.slugs import slugify
from generator.digest.schedule import past_issues


class Kind(Enum):
    POST = "post"
    INDEX = "index"  # the home page and its further pages
    ARCHIVE = "archive"  # one year
    CATEGORY = "category"
    AUTHOR = "author"
    TAGS = "tags"  # every tag, with its count
    TAG = "tag"
    NEWSLETTER = "newsletter"  # the archive of past digests
    ISSUE = "issue"  # one past digest
    PREVIEW = "preview"  # the coming digest, in the live preview
    SUBSCRIBE = "subscribe"  # /subscribe/: the page to link to, with the subscribe box


LISTS = {Kind.INDEX, Kind.ARCHIVE, Kind.CATEGORY, Kind.AUTHOR, Kind.TAG}  # paginated alike


@dataclass(frozen=True)
class BlogLayout:
    """How lists are cut and where they live (Material's blog settings in mkdocs.yml)."""

    per_page: int = 5
    home_title: str = ""  # content/index.md's title; the site name when empty

    def __post_init__(self) -> None:
        if self.per_page < 1:
            raise ValueError(f"per_page must be at least 1, not {self.per_page}")


@dataclass(frozen=True)
class PlannedPage:
    url: str  # site-relative and ending in "/", "" for the home page
    kind: Kind
    title: str  # text, not HTML
    template: str
    articles: tuple[Article, ...]  # listed, in order; a post page's own article
    view: str  # the URL of the first page of its list: pages of one list share it
    number: int = 1  # page number within the list
    previous: str | None = None  # URL of the list's page before this one
    next: str | None = None
    day: date | None = None  # an issue's Saturday
    heading: str = ""  # the page's level-1 heading (text) when it is not its title

    @property
    def shown_heading(self) -> str:
        return self.heading or self.title

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(str(a.source) for a in self.articles)


@dataclass(frozen=True)
class BlogPlan:
    pages: tuple[PlannedPage, ...]

    def __post_init__(self) -> None:
        seen: dict[str, PlannedPage] = {}
        for page in self.pages:
            if page.url in seen:
                raise ValueError(
                    f"two pages at /{page.url}: {seen[page.url].title!r}, {page.title!r}"
                )
            seen[page.url] = page

    @property
    def urls(self) -> set[str]:
        return {page.url for page in self.pages}

    def page(self, url: str) -> PlannedPage:
        return next(p for p in self.pages if p.url == url)

    def of_kind(self, *kinds: Kind) -> list[PlannedPage]:
        return [p for p in self.pages if p.kind in kinds]

    def showing(self, article: Article) -> set[str]:
        """URLs of the pages that list `article` (its own page included)."""
        return {p.url for p in self.pages if any(a.source == article.source for a in p.articles)}


def plan_blog(
    articles: Iterable[Article],
    site: SiteConfig,
    now: datetime,
    layout: BlogLayout = BlogLayout(),
    include_drafts: bool = False,
    email_preview: bool = False,
) -> BlogPlan:
    """Every page of the blog at `now`, in a stable order."""
    corpus = list(articles)
    shown = order_for_lists(
        a for a in corpus if a.is_published(now) or (include_drafts and a.draft)
    )
    pages = _post_pages(shown)
    pages += _paginated(Kind.INDEX, "", layout.home_title or site.name, shown, layout)
    for year in sorted({a.published.year for a in shown}, reverse=True):
        listed = [a for a in shown if a.published.year == year]
        pages += _paginated(Kind.ARCHIVE, f"archive/{year}/", str(year), listed, layout)
    for name in sorted({c for a in shown for c in a.categories}):
        listed = [a for a in shown if name in a.categories]
        pages += _paginated(Kind.CATEGORY, f"category/{slugify(name)}/", name, listed, layout)
    for author in _authors_in_order(shown):
        listed = [a for a in shown if author in a.authors]
        pages += _paginated(Kind.AUTHOR, f"author/{author.slug}/", author.name, listed, layout)
    pages += list(_tag_pages([a for a in shown if a.is_published(now)], layout))
    pages += list(_newsletter_pages(site, corpus, now))
    pages.append(
        PlannedPage("subscribe/", Kind.SUBSCRIBE, "Subscribe", "press-page.html", (), "subscribe/")
    )
    if email_preview:
        pages.append(
            PlannedPage(
                "newsletter/preview/",
                Kind.PREVIEW,
                "Digest preview",
                "email",
                (),
                "newsletter/preview/",
            )
        )
    return BlogPlan(tuple(pages))


def order_for_lists(articles: Iterable[Article]) -> list[Article]:
    """Pinned first, then newest first; equal dates keep their path order (as Material does
    with its files, which MkDocs sorts by path)."""
    by_path = sorted(articles, key=lambda a: a.source.as_posix())
    return sorted(by_path, key=lambda a: (a.pinned, a.published), reverse=True)


def pages_changed(before: BlogPlan, after: BlogPlan) -> set[str]:
    """URLs to write again (or delete): pages that appear, disappear, or whose title, listed
    articles (any field of them) or neighbours differ, and every page of a list that has
    more or fewer pages (each links to the list's last page)."""
    old = {p.url: p for p in before.pages}
    new = {p.url: p for p in after.pages}
    changed = {url for url in old.keys() | new.keys() if old.get(url) != new.get(url)}
    old_lists, new_lists = _list_pages(before), _list_pages(after)
    for view in old_lists.keys() | new_lists.keys():
        if old_lists.get(view) != new_lists.get(view):
            changed |= set(old_lists.get(view, ())) | set(new_lists.get(view, ()))
    return changed


def _list_pages(plan: BlogPlan) -> dict[str, list[str]]:
    lists: dict[str, list[str]] = {}
    for page in plan.pages:
        if page.kind in LISTS:
            lists.setdefault(page.view, []).append(page.url)
    return lists


def pages_added_and_removed(
    before: BlogPlan, after: BlogPlan
) -> tuple[list[PlannedPage], list[PlannedPage]] | None:
    """The pages `after` adds and those it removes, when only posts and further pages of a
    list come or go (a list's first page is in the site's navigation) and every page both
    have keeps its kind, template, title and heading; None otherwise."""
    old = {p.url: p for p in before.pages}
    new = {p.url: p for p in after.pages}
    if any(_shape(old[url]) != _shape(new[url]) for url in old.keys() & new.keys()):
        return None
    added = [p for p in after.pages if p.url not in old]
    removed = [p for p in before.pages if p.url not in new]
    if not all(p.kind is Kind.POST or (p.kind in LISTS and p.number > 1) for p in added):
        return None
    if not all(p.kind is Kind.POST or (p.kind in LISTS and p.number > 1) for p in removed):
        return None
    return added, removed


def _shape(page: PlannedPage) -> tuple[str, Kind, str, str, str, str]:
    return (page.url, page.kind, page.template, page.title, page.shown_heading, page.view)


def _post_pages(shown: list[Article]) -> list[PlannedPage]:
    """A page per article, in URL order; its neighbours are the articles published just
    before and just after it (rel=prev, rel=next)."""
    by_date = sorted(shown, key=lambda a: (a.published, a.source.as_posix()))
    before = {a.path: by_date[i - 1].path if i else None for i, a in enumerate(by_date)}
    after = {
        a.path: by_date[i + 1].path if i + 1 < len(by_date) else None for i, a in enumerate(by_date)
    }
    return [
        PlannedPage(
            a.path,
            Kind.POST,
            a.title,
            "blog-post.html",
            (a,),
            a.path,
            previous=before[a.path],
            next=after[a.path],
        )
        for a in sorted(shown, key=lambda a: a.path)
    ]


def _paginated(
    kind: Kind,
    url: str,
    title: str,
    listed: list[Article],
    layout: BlogLayout,
    heading: str = "",
) -> list[PlannedPage]:
    chunks = [listed[at : at + layout.per_page] for at in range(0, len(listed), layout.per_page)]
    urls = [url] + [f"{url}page/{n}/" for n in range(2, len(chunks) + 1)]
    return [
        PlannedPage(
            urls[i],
            kind,
            title,
            "blog.html",
            tuple(chunk),
            url,
            i + 1,
            urls[i - 1] if i else None,
            urls[i + 1] if i + 1 < len(urls) else None,
            heading=heading,
        )
        for i, chunk in enumerate(chunks)
    ]


def _authors_in_order(shown: list[Article]) -> Iterator[Author]:
    """Each author once, in the order of their first listed article (Material's order)."""
    seen: set[str] = set()
    for article in shown:
        for author in article.authors:
            if author.id not in seen:
                seen.add(author.id)
                yield author


def _tag_pages(published: list[Article], layout: BlogLayout) -> Iterator[PlannedPage]:
    """The tags index (every tag with its count), then each tag's articles listed and
    paginated like a category's."""
    tags = sorted({t for a in published for t in a.tags}, key=str.lower)
    if not tags:
        return
    shown = order_for_lists(published)
    tagged = tuple(a for a in shown if a.tags)  # the index counts them
    yield PlannedPage("tag/", Kind.TAGS, "Tags", "main.html", tagged, "tag/")
    for tag in tags:
        listed = [a for a in shown if tag in a.tags]
        url = f"tag/{slugify(tag)}/"
        yield from _paginated(Kind.TAG, url, f"#{tag}", listed, layout, f"Articles tagged {tag}")


def _newsletter_pages(
    site: SiteConfig, corpus: list[Article], now: datetime
) -> Iterator[PlannedPage]:
    issues = past_issues(site, corpus, now)
    listed = tuple(a for week in issues.values() for a in week)
    yield PlannedPage(
        "newsletter/", Kind.NEWSLETTER, "Newsletter", "press-page.html", listed, "newsletter/"
    )
    for day, week in issues.items():
        url = f"newsletter/{day.isoformat()}/"
        yield PlannedPage(
            url, Kind.ISSUE, f"Digest of {day:%d/%m/%Y}", "main.html", tuple(week), url, day=day
        )
