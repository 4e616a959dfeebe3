"""The one model of an article that the blog, the feeds and the digest all read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from generator.content.dates import DateError, parse_article_date
from generator.content.front_matter import Source, read_text, split_front_matter
from generator.content.pictures import picture_problem
from generator.content.problems import Problem, display_path
from generator.content.rendering import (
    MORE,
    plain_text,
    read_time_minutes,
    shorten,
)
from generator.content.sanitise import active_content_problems
from generator.content.site_config import Author, CallToAction, SiteConfig
from generator.content.slugs import MAX_SLUG_BYTES, bounded, is_slug, slugify

KNOWN_KEYS = {
    "title",
    "date",
    "authors",
    "categories",
    "tags",
    "description",
    "slug",
    "draft",
    "updated",
    "image",
    "image_alt",
    "call_to_action",
    "pin",
    "links",
    "readtime",
    "id",
}
DESCRIPTION_LIMIT = 300


@dataclass(frozen=True)
class Article:
    source: Path
    slug: str
    title: str
    published: datetime  # aware, in the site time zone: drives page, sitemap, feeds, digest
    date_only: bool
    updated: datetime | None
    authors: tuple[Author, ...]
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    draft: bool
    description: str
    excerpt_md: str
    body_md: str
    image: str | None
    image_alt: str | None
    cta: CallToAction
    read_time: int
    path: str  # site-relative, e.g. "posts/say-the-hard-thing/"
    url: str  # absolute
    uid: str  # stable identity for feed guids: `id:` or the file name, never title or slug
    pinned: bool = False  # shown first on the blog index (Material's `pin`)
    links: tuple[tuple[str, str], ...] = ()  # (title or "", target): the post's related links
    body_html: str = ""  # rendered once, with mkdocs.yml's Markdown configuration
    excerpt_html: str = ""
    # The body's headings as MkDocs' toc tokens: the page's table of contents and search.
    toc: list[dict[str, Any]] = field(default_factory=list, compare=False, hash=False)

    @property
    def modified(self) -> datetime:
        return self.updated or self.published

    def is_published(self, now: datetime) -> bool:
        return not self.draft and self.published <= now


IMAGE_TYPES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg"}


def _image_problem(content: Path, image: str) -> str:
    """Why `image` cannot be the article's picture ('' when it can): it must be an image file
    inside content/, never a path that climbs out of it."""
    root = content.resolve()
    resolved = (root / image).resolve()
    if image.startswith("/") or not resolved.is_relative_to(root):
        return f"'{image}' is outside content/ (put the picture under content/assets/)"
    if resolved.suffix.lower() not in IMAGE_TYPES:
        return f"'{image}' is not an image ({', '.join(sorted(IMAGE_TYPES))})"
    if not resolved.is_file():
        return f"file 'content/{image}' does not exist"
    return ""


def _link_item(item: Any) -> tuple[str, str | None]:
    if isinstance(item, str):
        return "", item.strip()
    if isinstance(item, dict) and len(item) == 1:
        title, target = next(iter(item.items()))
        if isinstance(title, str) and isinstance(target, str):
            return title.strip(), target.strip()
    return "", None


def article_path(slug: str) -> str:
    return f"posts/{slug}/"


def published_only(articles: list[Article], now: datetime) -> list[Article]:
    """Published articles, newest first: what readers, feeds and digests may see."""
    visible = [a for a in articles if a.is_published(now)]
    return sorted(visible, key=lambda a: (a.published, a.slug), reverse=True)


def read_article(path: Path, config: SiteConfig) -> tuple[Article | None, list[Problem]]:
    shown = display_path(path, config.root)
    text, problems = read_text(shown, path.read_bytes())
    if text is None:
        return None, problems
    source, problems = split_front_matter(shown, text)
    if source is None:
        return None, problems
    builder = _ArticleBuilder(path, source, config)
    article = builder.build()
    active = active_content_problems(source, builder.body_html)
    return article, source.problems + builder.problems + active


class _ArticleBuilder:
    """Turns checked front matter into an Article, recording one problem per mistake."""

    def __init__(self, path: Path, source: Source, config: SiteConfig) -> None:
        self.path, self.src, self.config = path, source, config
        self.problems: list[Problem] = []
        self.body_html = ""  # rendered, even when other problems stop the article

    def fail(self, key: str | None, message: str, hint: str = "", warning: bool = False) -> None:
        self.problems.append(self.src.at(message, key, hint, warning))

    def value(self, key: str) -> Any:
        f = self.src.fields.get(key)
        return None if f is None else f.value

    def build(self) -> Article | None:
        self._unknown_keys()
        title = self._title()
        published, date_only = self._date("date", required=True)
        updated, _ = self._date("updated", required=False)
        if published and updated and updated < published:
            self.fail("updated", "updated: is earlier than date", "updated must follow date")
        authors = self._authors()
        categories = self._names("categories")
        self._allowed_categories(categories)
        excerpt_md, body_md = self._body()
        rendered = self.config.renders.body(body_md) if body_md else None
        self.body_html = rendered.html if rendered else ""
        slug = self._slug(title)
        description = self._description(rendered.excerpt if rendered else "")
        image, image_alt = self._image()
        draft = self._flag("draft")
        cta = self._cta()
        pinned, links, read_time = self._flag("pin"), self._links(), self._read_time()
        if self.problems and any(not p.warning for p in self.problems):
            return None
        assert published is not None and rendered is not None
        html = rendered.html
        article = Article(
            source=self.path,
            slug=slug,
            title=title,
            published=published,
            date_only=date_only,
            updated=updated,
            authors=authors,
            categories=categories,
            tags=self._names("tags"),
            draft=draft,
            description=description,
            excerpt_md=excerpt_md,
            body_md=body_md,
            image=image,
            image_alt=image_alt,
            cta=cta,
            read_time=read_time or read_time_minutes(html, html.count("<img")),
            path=article_path(slug),
            url=self.config.absolute(article_path(slug)),
            uid=self._uid(),
            pinned=pinned,
            links=links,
            body_html=html,
            excerpt_html=rendered.excerpt,
            toc=rendered.toc,
        )
        return article

    def _unknown_keys(self) -> None:
        for key in sorted(set(self.src.fields) - KNOWN_KEYS):
            f = self.src.fields[key]
            message = f"unknown key '{key}'"
            self.problems.append(
                Problem(self.src.path, f.key_line, f.key_col, message, "check the spelling", True)
            )

    def _title(self) -> str:
        title = self.value("title")
        if title is None:
            self.fail(None, "title: is required", "add 'title: Your title' to the front matter")
            return ""
        if not isinstance(title, str) or not title.strip():
            self.fail("title", "title: must be non-empty text")
            return ""
        if "\n" in title.strip() or "\r" in title:
            self.fail("title", "title: must be a single line")
        return title.strip()

    def _date(self, key: str, required: bool) -> tuple[datetime | None, bool]:
        raw = self.value(key)
        if raw is None:
            if required:
                self.fail(None, f"{key}: is required", "add e.g. 'date: 2026-11-21'")
            return None, False
        try:
            return parse_article_date(raw, self.config.timezone)
        except DateError as exc:
            self.fail(key, f"{key}: {exc}", exc.hint)
            return None, False

    def _authors(self) -> tuple[Author, ...]:
        raw = self.value("authors")
        known = self.config.authors
        if raw is None:
            self.fail(
                None, "authors: is required", f"add e.g. 'authors: [{next(iter(known), 'id')}]'"
            )
            return ()
        if not isinstance(raw, list) or not raw or not all(isinstance(a, str) for a in raw):
            self.fail("authors", "authors: must be a list of author ids", "e.g. [amara]")
            return ()
        for author_id in raw:
            if author_id not in known:
                hint = f"known authors: {', '.join(sorted(known))} (site_config/authors.yml)"
                self.fail("authors", f"authors: unknown author '{author_id}'", hint)
        return tuple(known[a] for a in dict.fromkeys(raw) if a in known)

    def _names(self, key: str) -> tuple[str, ...]:
        raw = self.value(key)
        if raw is None:
            return ()
        if not isinstance(raw, list) or not all(isinstance(v, str) and v.strip() for v in raw):
            self.fail(key, f"{key}: must be a list of names", f"e.g. {key}: [Teams]")
            return ()
        return tuple(dict.fromkeys(v.strip() for v in raw))

    def _allowed_categories(self, categories: tuple[str, ...]) -> None:
        allowed = self.config.categories
        for name in categories:
            if allowed and name not in allowed:
                hint = f"allowed: {', '.join(allowed)} (site_config/site.yml)"
                self.fail("categories", f"categories: '{name}' is not an allowed category", hint)

    def _body(self) -> tuple[str, str]:
        body = self.src.body.strip("\n")
        if not body.strip():
            self.problems.append(
                Problem(self.src.path, self.src.body_line, 1, "article has no body text")
            )
            return "", ""
        if MORE not in body:
            hint = f"add '{MORE}' after the opening paragraph"
            line = self.src.body_line + len(self.src.body) - len(self.src.body.lstrip("\n"))
            self.problems.append(
                Problem(self.src.path, line, 1, "no excerpt separator", hint, warning=True)
            )
            return body.split("\n\n", 1)[0], body
        return body.split(MORE, 1)[0].strip(), body

    def _slug(self, title: str) -> str:
        raw = self.value("slug")
        if raw is None:
            if title and not slugify(title):
                hint = "add a word to the title, or set 'slug:' for the URL"
                self.fail("title", f"title: '{title}' has no letter or digit to make a URL", hint)
            return slugify(title)
        if not isinstance(raw, str) or not is_slug(raw):
            hint = "use lowercase letters, digits and single hyphens"
            self.fail("slug", f"slug: '{raw}' is not a valid slug", hint)
            return slugify(title)
        if len(raw.encode("utf-8")) > MAX_SLUG_BYTES:
            hint = f"at most {MAX_SLUG_BYTES} bytes, e.g. '{bounded(raw)}'"
            self.fail("slug", f"slug: '{raw[:40]}…' is too long for a URL", hint)
            return bounded(raw)
        return raw

    def _description(self, excerpt_html: str) -> str:
        raw = self.value("description")
        if raw is None:
            return shorten(plain_text(excerpt_html), DESCRIPTION_LIMIT)
        if not isinstance(raw, str) or not raw.strip():
            self.fail("description", "description: must be text")
            return ""
        text = " ".join(raw.split())
        if len(text) > DESCRIPTION_LIMIT:
            msg = (
                f"description: is {len(text)} characters long, at most {DESCRIPTION_LIMIT} allowed"
            )
            self.fail("description", msg, "shorten the summary")
        return text

    def _image(self) -> tuple[str | None, str | None]:
        image, alt = self.value("image"), self.value("image_alt")
        if image is None:
            return None, None
        if not isinstance(image, str) or not image.strip():
            self.fail("image", "image: must be a path relative to content/")
            return None, None
        problem = _image_problem(self.config.content_dir, image.strip())
        if problem:
            self.fail("image", f"image: {problem}")
            return None, None
        picture = picture_problem(self.config.content_dir / image.strip())
        if picture is not None:
            hint = (
                "remove it from the SVG: the picture is published as it is"
                if picture.warning
                else ""
            )
            self.fail(
                "image",
                f"image: 'content/{image.strip()}' {picture.message}",
                hint,
                picture.warning,
            )
            if not picture.warning:
                return None, None
        if not isinstance(alt, str) or not alt.strip():
            hint = "describe the picture for readers who cannot see it"
            self.fail("image", "image_alt: is required when an image is set", hint)
            return image, None
        return image, alt.strip()

    def _read_time(self) -> int:
        """An editor's `readtime:` in minutes overrides the computed one; 0 when not given."""
        raw = self.value("readtime")
        if raw is None:
            return 0
        if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 600:
            self.fail("readtime", f"readtime: must be a whole number of minutes, not '{raw}'")
            return 0
        return raw

    def _links(self) -> tuple[tuple[str, str], ...]:
        """Related links: files under content/ (`posts/x.md`) or `Title: URL-or-file` pairs."""
        raw = self.value("links")
        if raw is None:
            return ()
        hint = "e.g. links: [posts/other.md, {Further reading: https://example.org/}]"
        if not isinstance(raw, list):
            self.fail("links", "links: must be a list", hint)
            return ()
        links = []
        for item in raw:
            title, target = _link_item(item)
            if target is None or not self._link_target_exists(target):
                self.fail(
                    "links", f"links: '{item}' is not an article file or an http(s) URL", hint
                )
                continue
            links.append((title, target))
        return tuple(links)

    def _link_target_exists(self, target: str) -> bool:
        if target.startswith(("https://", "http://")):
            return True
        if not target.endswith(".md"):
            return False
        content = self.config.content_dir.resolve()
        resolved = (content / target).resolve()  # relative to content/, as Material reads them
        return resolved.is_relative_to(content) and resolved.is_file()

    def _uid(self) -> str:
        raw = self.value("id")
        if raw is None:
            return self.path.stem
        if not isinstance(raw, str) or not is_slug(raw):
            self.fail("id", f"id: '{raw}' must be lowercase letters, digits and hyphens")
        return str(raw)

    def _flag(self, key: str) -> bool:
        raw = self.value(key)
        if raw is None:
            return False
        if not isinstance(raw, bool):
            self.fail(key, f"{key}: must be true or false, not '{raw}'")
            return False
        return raw

    def _cta(self) -> CallToAction:
        default = self.config.cta
        raw = self.value("call_to_action")
        if raw is None:
            return default
        allowed = {"title", "text", "link_text", "url"}
        if not isinstance(raw, dict) or not set(raw) <= allowed:
            hint = f"keys: {', '.join(sorted(allowed))}"
            self.fail("call_to_action", "call_to_action: must be a mapping", hint)
            return default
        merged = {k: str(raw.get(k, getattr(default, k))) for k in sorted(allowed)}
        return CallToAction(**merged)
