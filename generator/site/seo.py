"""Search and social metadata for a page: canonical URL, Open Graph, Twitter card, JSON-LD."""

from __future__ import annotations

import json
from dataclasses import dataclass

from generator.content.articles import Article
from generator.content.site_config import SiteConfig
from generator.site.cards import HEIGHT, WIDTH, card_alt, card_path


@dataclass(frozen=True)
class PageMeta:
    canonical: str
    title: str
    description: str
    properties: tuple[tuple[str, str], ...]  # <meta property=… content=…>
    names: tuple[tuple[str, str], ...]  # <meta name=… content=…>
    json_ld: str | None


def page_meta(
    site: SiteConfig, canonical: str, title: str, description: str, article: Article | None
) -> PageMeta:
    description = description or site.description
    image, alt, size = _picture(site, article)
    props = [
        ("og:site_name", site.name),
        ("og:type", "article" if article else "website"),
        ("og:title", title),
        ("og:description", description),
        ("og:url", canonical),
        ("og:locale", site.language.replace("-", "_")),
    ]
    names = [("twitter:card", "summary_large_image" if image else "summary")]
    names += [("twitter:title", title), ("twitter:description", description)]
    if image:
        props += [("og:image", image)]
        if size:
            props += [("og:image:type", "image/png")]
            props += [("og:image:width", str(size[0])), ("og:image:height", str(size[1]))]
        props += [("og:image:alt", alt)]
        names += [("twitter:image", image), ("twitter:image:alt", alt)]
    if article:
        props += [("article:published_time", article.published.isoformat())]
        props += [("article:modified_time", article.modified.isoformat())]
        props += [("article:section", c) for c in article.categories[:1]]
        props += [("article:tag", t) for t in article.tags]
    ld = blog_posting(site, article, canonical) if article else None
    return PageMeta(canonical, title, description, tuple(props), tuple(names), ld)


def _picture(
    site: SiteConfig, article: Article | None
) -> tuple[str | None, str, tuple[int, int] | None]:
    """The link preview: the post's share card, else the article's own picture, if any."""
    if article is None:
        return None, "", None
    if site.share_cards:
        return site.absolute(card_path(article)), card_alt(article, site), (WIDTH, HEIGHT)
    if article.image:
        return site.absolute(article.image), article.image_alt or "", None
    return None, "", None


def blog_posting(site: SiteConfig, article: Article, canonical: str) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": article.title,
        "description": article.description,
        "url": canonical,
        "mainEntityOfPage": canonical,
        "datePublished": article.published.isoformat(),
        "dateModified": article.modified.isoformat(),
        "author": [_person(site, a.id, a.name, a.slug) for a in article.authors],
        "publisher": {"@type": "Organization", "name": site.name, "url": site.url},
        "inLanguage": site.language,
        "keywords": ", ".join(article.tags),
        "articleSection": list(article.categories),
        "timeRequired": f"PT{article.read_time}M",
    }
    if article.image:
        data["image"] = site.absolute(article.image)
    # Inside <script>, "</" would end the element and "<!--" change how it is parsed; JSON
    # allows "<" as \u003c, so no "<" is left at all.
    return json.dumps(data, ensure_ascii=False, sort_keys=True).replace("<", "\\u003c")


def _person(site: SiteConfig, author_id: str, name: str, slug: str) -> dict[str, str]:
    kind = "Organization" if author_id in site.organisation_authors else "Person"
    return {"@type": kind, "name": name, "url": site.absolute(f"author/{slug}/")}
