"""RSS 2.0 and Atom (feedgen) and JSON Feed 1.1, built from Articles without a site build."""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass
from datetime import datetime

from feedgen.feed import FeedGenerator

from generator.content.articles import Article, published_only
from generator.content.links import absolute_html, source_urls
from generator.content.sanitise import safe_html
from generator.content.site_config import SiteConfig
from generator.content.slugs import slugify

LOGO = "assets/logo.png"


@dataclass(frozen=True)
class FeedItem:
    """What every feed format says about one article."""

    article: Article
    guid: str
    content_html: str
    enclosure: tuple[str, int, str] | None  # url, length in bytes, MIME type


def build_feeds(site: SiteConfig, articles: list[Article], now: datetime) -> dict[str, bytes]:
    """All feed files, keyed by site-relative path; empty feeds when nothing is published."""
    visible = published_only(articles, now)
    urls = source_urls(visible, site)
    made: dict[int, FeedItem] = {}

    def items_of(chosen: list[Article]) -> list[FeedItem]:
        # Only the newest `feed_items` of each list: an article's item is made once, for
        # whichever feeds show it, and never for an article no feed shows.
        newest = chosen[: site.feed_items]
        return [made.get(id(a)) or made.setdefault(id(a), _item(site, a, urls)) for a in newest]

    items = items_of(visible)
    files = {
        "feed.xml": rss_feed(site, items, "feed.xml", site.name),
        "atom.xml": atom_feed(site, items),
        "feed.json": json_feed(site, items),
    }
    for tag in sorted({t for a in visible for t in a.tags}):
        path = f"tag/{slugify(tag)}/feed.xml"
        chosen = items_of([a for a in visible if tag in a.tags])
        files[path] = rss_feed(site, chosen, path, f"{site.name}: #{tag}")
    for category in sorted({c for a in visible for c in a.categories}):
        path = f"category/{slugify(category)}/feed.xml"
        chosen = items_of([a for a in visible if category in a.categories])
        files[path] = rss_feed(site, chosen, path, f"{site.name}: {category}")
    return files


def article_guid(site: SiteConfig, article: Article) -> str:
    """A tag URI from the article's file name: unchanged when its title or slug changes."""
    return f"tag:{site.domain},{article.published.date().isoformat()}:{article.uid}"


def _item(site: SiteConfig, article: Article, urls: dict[str, str]) -> FeedItem:
    html = safe_html(absolute_html(article.body_html, article, site, urls))
    enclosure = None
    if article.image:
        path = site.content_dir / article.image
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        enclosure = (site.absolute(article.image), path.stat().st_size, mime)
    return FeedItem(article, article_guid(site, article), html, enclosure)


def _generator(
    site: SiteConfig, items: list[FeedItem], self_path: str, title: str
) -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.id(site.url)
    fg.title(title)
    fg.subtitle(site.description)
    # feedgen takes the RSS <link> from the last link given: self first, then the site.
    fg.link(href=site.absolute(self_path), rel="self")
    fg.link(href=site.url, rel="alternate")
    fg.language(site.language)
    fg.logo(site.absolute(LOGO))
    fg.image(url=site.absolute(LOGO), title=title, link=site.url)
    fg.ttl(site.feed_ttl)
    fg.generator("Leadership Press", uri=site.url)
    fg.author({"name": site.name, "uri": site.url})
    # feedgen defaults lastBuildDate/updated to now(): use the newest article instead.
    newest = max((i.article.modified for i in items), default=_epoch(site))
    fg.lastBuildDate(newest)
    for item in items:  # newest first; "append" keeps that order (the default prepends)
        _add_entry(fg, site, item)
    return fg


def _add_entry(fg: FeedGenerator, site: SiteConfig, item: FeedItem) -> None:
    a = item.article
    fe = fg.add_entry(order="append")
    fe.guid(item.guid, permalink=False)
    fe.title(a.title)
    fe.link(href=a.url, rel="alternate")
    fe.published(a.published)
    fe.updated(a.modified)
    fe.pubDate(a.published)
    fe.description(a.description)
    fe.summary(a.description)
    fe.content(item.content_html, type="CDATA")
    for author in a.authors:
        fe.author({"name": author.name, "uri": site.absolute(f"author/{author.slug}/")})
        fe.dc.dc_creator(author.name)
    for category in a.categories:
        scheme = site.absolute(f"category/{slugify(category)}/")
        fe.category(term=category, scheme=scheme, label=category)
    if item.enclosure:
        url, length, mime = item.enclosure
        fe.enclosure(url, str(length), mime)


def rss_feed(site: SiteConfig, items: list[FeedItem], self_path: str, title: str) -> bytes:
    return _generator(site, items, self_path, title).rss_str(pretty=True)


def atom_feed(site: SiteConfig, items: list[FeedItem]) -> bytes:
    fg = _generator(site, items, "atom.xml", site.name)
    # Atom wants summary and content as HTML text; RSS's CDATA marker means nothing there.
    for entry, item in zip(fg.entry(), items, strict=True):
        entry.content(item.content_html, type="html")
    return fg.atom_str(pretty=True)


def json_feed(site: SiteConfig, items: list[FeedItem]) -> bytes:
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": site.name,
        "home_page_url": site.url,
        "feed_url": site.absolute("feed.json"),
        "description": site.description,
        "language": site.language,
        "icon": site.absolute(LOGO),
        "authors": [{"name": site.name, "url": site.url}],
        "items": [_json_item(site, i) for i in items],
    }
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _json_item(site: SiteConfig, item: FeedItem) -> dict[str, object]:
    a = item.article
    data: dict[str, object] = {
        "id": item.guid,
        "url": a.url,
        "title": a.title,
        "content_html": item.content_html,
        "summary": a.description,
        "date_published": a.published.isoformat(),
        "date_modified": a.modified.isoformat(),
        "authors": [
            {"name": au.name, "url": site.absolute(f"author/{au.slug}/")} for au in a.authors
        ],
        "tags": list(a.categories) + list(a.tags),
    }
    if item.enclosure:
        data["image"] = item.enclosure[0]
    return data


def _epoch(site: SiteConfig) -> datetime:
    return datetime(2000, 1, 1, tzinfo=site.timezone)
