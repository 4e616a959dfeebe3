"""Site configuration from `site_config/`: the site, its authors, schedule and mail settings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from email.headerregistry import Address
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urljoin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email

from generator.content.front_matter import Field, parse_fields
from generator.content.problems import ContentError, Problem, display_path
from generator.content.render_cache import RenderCache
from generator.content.rendering import MarkdownConfigError, MarkdownRenderer

ABSOLUTE_URL = re.compile(r"^https?://[^/\s?#]+[^\s]*$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
AUTHOR_KEYS = {"name", "description", "avatar", "slug", "url"}


@dataclass(frozen=True)
class Author:
    id: str
    name: str
    description: str
    avatar: str
    slug: str


@dataclass(frozen=True)
class CallToAction:
    title: str
    text: str
    link_text: str
    url: str


@dataclass(frozen=True)
class DigestSettings:
    weekday: int  # Monday is 0, as in `datetime.weekday()`
    send_time: time
    subject: str
    utm: tuple[tuple[str, str], ...]

    @property
    def day_name(self) -> str:
        """The send day as a reader reads it: "Saturday"."""
        return WEEKDAYS[self.weekday].title()

    @property
    def cadence(self) -> str:
        """When the digest arrives, mid-sentence: "every Saturday morning"."""
        part = "morning" if self.send_time.hour < 12 else "afternoon"
        if self.send_time.hour >= 18:
            part = "evening"
        return f"every {self.day_name} {part}"


@dataclass(frozen=True)
class DkimSettings:
    """`email.dkim`: who signs. The first selector signs; the others stay published (and
    checked by `press doctor`) while mail signed with them may still be in flight."""

    domain: str
    selectors: tuple[str, ...]
    ed25519_selector: str = ""  # a second signature, ed25519-sha256, under this selector


@dataclass(frozen=True)
class EmailSettings:
    from_name: str
    from_address: str
    reply_to: str
    postal_address: str
    unsubscribe_url: str
    unsubscribe_mailto: str
    transport: str
    bounce_address: str = ""  # the envelope sender, where bounces go ('': from_address)
    verp: bool = False  # tag the envelope sender per recipient: bounces+<tag>@domain
    dkim: DkimSettings | None = None  # None: press signs nothing (a relay may)
    # Article links go through the service's /r/ redirect, which counts them (false: direct).
    click_counts: bool = True
    # Count clicks per subscriber (false: unique per reader, but who clicked is not stored).
    click_readers: bool = False

    def sender(self) -> Address:
        """The From header of every email the site sends."""
        local, _, domain = self.from_address.partition("@")
        return Address(self.from_name, local, domain)


@dataclass(frozen=True)
class SubscriberSettings:
    database: str
    rate_limit: int  # subscribe requests per client per minute; 0 turns the limit off
    confirm_hours: int
    trusted_proxies: tuple[str, ...] = ()  # addresses whose X-Forwarded-For is believed


@dataclass(frozen=True)
class DeliverySettings:
    connections: int
    max_attempts: int  # for temporary failures (4xx, dropped connections, timeouts)
    retry_delay: float  # seconds before the first retry; doubles each time
    pause_after: int  # consecutive failed messages before a send stops
    bounce_limit: int  # permanent failures before a subscriber is marked bounced


@dataclass(frozen=True)
class SiteConfig:
    root: Path
    name: str
    tagline: str
    description: str
    url: str  # always ends with '/'
    language: str
    timezone: ZoneInfo
    categories: tuple[str, ...]
    cta: CallToAction
    subscribe_endpoint: str
    subscribe_promise: str
    feed_items: int
    feed_ttl: int
    digest: DigestSettings
    email: EmailSettings
    subscribers: SubscriberSettings
    delivery: DeliverySettings
    authors: dict[str, Author]
    organisation_authors: tuple[str, ...] = ()
    share_cards: bool = True  # a 1200×630 picture per post for link previews
    posts_per_page: int = 5  # excerpts on each page of the home page, archive, categories, authors
    theme_credit: bool = False  # "Made with Material for MkDocs" in the footer

    @property
    def digest_name(self) -> str:
        """The newsletter, mid-sentence: "the Saturday digest of The Leadership Press" reads
        right whether or not the site's name starts with "The"."""
        return f"the {self.digest.day_name} digest of {self.name}"

    @property
    def content_dir(self) -> Path:
        return self.root / "content"

    @property
    def posts_dir(self) -> Path:
        return self.root / "content" / "posts"

    @cached_property  # read once per email of a send
    def domain(self) -> str:
        return re.sub(r"^https?://([^/:]+).*$", r"\1", self.url)

    @cached_property
    def markdown(self) -> MarkdownRenderer:
        """The one Markdown configuration: mkdocs.yml's, read once per site."""
        return MarkdownRenderer.from_mkdocs_config(self.root / "mkdocs.yml")

    @cached_property
    def renders(self) -> RenderCache:
        """Article bodies converted once, kept across builds in `.cache/press/`."""
        return RenderCache(self.markdown, self.root / ".cache" / "press")

    def absolute(self, path: str) -> str:
        """An absolute URL for a site-relative path such as `posts/x/`."""
        return self.url + path.lstrip("/")

    def service_url(self, path: str) -> str:
        """An absolute URL on the subscription service (where the subscribe form posts)."""
        return urljoin(self.subscribe_endpoint, path)


class _Reader:
    """Reads typed values out of parsed YAML fields, collecting problems instead of raising."""

    def __init__(self, path: str, fields: dict[str, Field], problems: list[Problem]) -> None:
        self.path, self.fields, self.problems = path, fields, problems

    def section(self, key: str) -> _Reader:
        f = self.fields.get(key)
        if f is None or not isinstance(f.value, dict):
            self.fail(key, f"'{key}' must be a mapping of settings")
            return _Reader(self.path, {}, self.problems)
        sub = {k: Field(v, f.line, f.col, f.key_line, f.key_col) for k, v in f.value.items()}
        return _Reader(self.path, sub, self.problems)

    def text(self, key: str, default: str | None = None) -> str:
        f = self.fields.get(key)
        if f is None and default is not None:
            return default
        if f is None or not isinstance(f.value, str) or not f.value.strip():
            self.fail(key, f"'{key}' is required and must be text")
            return default or ""
        return f.value.strip()

    def url(self, key: str) -> str:
        """An absolute http(s) URL: forms post to it and emails link to it."""
        value = self.text(key)
        if value and not ABSOLUTE_URL.match(value):
            self.fail(key, f"{key}: '{value}' is not an absolute http(s) URL", "e.g. https://…/")
        return value

    def address(self, key: str) -> str:
        """An email address mail can be sent from or to (checked offline, no DNS)."""
        value = self.text(key)
        if value:
            try:
                validate_email(value, check_deliverability=False, allow_smtputf8=False)
            except EmailNotValidError as exc:
                self.fail(key, f"{key}: '{value}' is not an email address ({exc})")
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        f = self.fields.get(key)
        if f is None:
            return default
        if not isinstance(f.value, bool):
            self.fail(key, f"'{key}' must be true or false")
            return default
        return f.value

    def integer(self, key: str, default: int, minimum: int = 1) -> int:
        f = self.fields.get(key)
        if f is None:
            return default
        if isinstance(f.value, bool) or not isinstance(f.value, int) or f.value < minimum:
            self.fail(key, f"'{key}' must be a whole number, at least {minimum}")
            return default
        return f.value

    def seconds(self, key: str, default: float) -> float:
        f = self.fields.get(key)
        if f is None:
            return default
        if isinstance(f.value, bool) or not isinstance(f.value, int | float) or f.value < 0:
            self.fail(key, f"'{key}' must be a number of seconds")
            return default
        return float(f.value)

    def mapping(self, key: str) -> dict[str, Any]:
        f = self.fields.get(key)
        return f.value if f is not None and isinstance(f.value, dict) else {}

    def strings(self, key: str) -> tuple[str, ...]:
        f = self.fields.get(key)
        if f is None:
            return ()
        if not isinstance(f.value, list) or not all(isinstance(v, str) for v in f.value):
            self.fail(key, f"'{key}' must be a list of names")
            return ()
        return tuple(f.value)

    def fail(self, key: str, message: str, hint: str = "") -> None:
        f = self.fields.get(key)
        line, col = (f.line, f.col) if f else (1, 1)
        self.problems.append(Problem(self.path, line, col, message, hint))


def load_yaml_file(path: Path, root: Path) -> tuple[str, dict[str, Field] | None, list[Problem]]:
    shown = display_path(path, root)
    if not path.is_file():
        return shown, None, [Problem(shown, 1, 1, "file is missing")]
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return shown, None, [Problem(shown, 1, 1, f"cannot read the file: {exc}")]
    fields, problems = parse_fields(shown, text, offset=0, what="the file")
    return shown, fields, problems


def read_site(root: Path) -> tuple[SiteConfig | None, list[Problem]]:
    """Load and validate `site_config/`; returns every problem found, never raises."""
    shown, fields, problems = load_yaml_file(root / "site_config" / "site.yml", root)
    authors, author_problems = read_authors(root)
    problems += author_problems
    if fields is None:
        return None, problems
    r = _Reader(shown, fields, problems)
    config = SiteConfig(
        root=root,
        name=r.text("name"),
        tagline=r.text("tagline"),
        description=r.text("description"),
        url=_site_url(r),
        language=r.text("language", "en"),
        timezone=_timezone(r),
        categories=r.strings("categories"),
        cta=_call_to_action(r.section("call_to_action")),
        subscribe_endpoint=r.section("subscribe").url("endpoint"),
        subscribe_promise=r.section("subscribe").text("promise"),
        feed_items=r.section("feeds").integer("items", 20),
        feed_ttl=r.section("feeds").integer("ttl", 60),
        digest=_digest(r.section("digest")),
        email=_email(r.section("email")),
        subscribers=_subscribers(r.section("subscribers")),
        delivery=_delivery(r.section("delivery")),
        authors=authors,
        organisation_authors=r.strings("organisation_authors"),
        share_cards=r.flag("share_cards", default=True),
        posts_per_page=r.integer("posts_per_page", 5),
        theme_credit=r.flag("theme_credit", default=False),
    )
    try:
        config.markdown.convert("")  # mkdocs.yml's Markdown setup works, or says why here
    except MarkdownConfigError as exc:
        return None, [*problems, Problem("mkdocs.yml", exc.line, exc.col, str(exc))]
    return config, problems


def load_site(root: Path) -> SiteConfig:
    config, problems = read_site(root)
    if problems or config is None:
        raise ContentError(problems)
    return config


def _site_url(r: _Reader) -> str:
    return r.url("url").rstrip("/") + "/"


def _timezone(r: _Reader) -> ZoneInfo:
    name = r.text("timezone", "UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        r.fail("timezone", f"timezone: '{name}' is not a known time zone", "e.g. Europe/London")
        return ZoneInfo("UTC")


def _call_to_action(r: _Reader) -> CallToAction:
    return CallToAction(r.text("title"), r.text("text"), r.text("link_text"), r.text("url"))


def _digest(r: _Reader) -> DigestSettings:
    day = r.text("weekday", "saturday").lower()
    if day not in WEEKDAYS:
        r.fail("weekday", f"weekday: '{day}' is not a day of the week")
        day = "saturday"
    raw = r.text("send_time", "07:00")
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", raw)
    if not match:
        r.fail("send_time", f"send_time: '{raw}' is not a time of day", "use HH:MM, e.g. 07:00")
    send = time(int(match[1]), int(match[2])) if match else time(7)
    utm = tuple((str(k), str(v)) for k, v in r.mapping("utm").items())
    return DigestSettings(WEEKDAYS.index(day), send, r.text("subject"), utm)


def _email(r: _Reader) -> EmailSettings:
    return EmailSettings(
        from_name=r.text("from_name"),
        from_address=r.address("from_address"),
        reply_to=r.address("reply_to"),
        postal_address=r.text("postal_address"),
        unsubscribe_url=r.url("unsubscribe_url").rstrip("/") + "/",
        unsubscribe_mailto=r.address("unsubscribe_mailto"),
        transport=r.text("transport", "maildir:var/outbox"),
        bounce_address=r.address("bounce_address") if "bounce_address" in r.fields else "",
        verp=r.flag("verp"),
        dkim=_dkim(r.section("dkim")) if "dkim" in r.fields else None,
        click_counts=r.flag("click_counts", default=True),
        click_readers=r.flag("click_readers", default=False),
    )


DNS_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def _dkim(r: _Reader) -> DkimSettings:
    domain = r.text("domain").lower().rstrip(".")
    if domain and not all(DNS_LABEL.match(label) for label in domain.split(".")):
        r.fail("domain", f"dkim.domain: '{domain}' is not a domain name", "e.g. example.org")
    f = r.fields.get("selector")
    selectors = (f.value,) if f is not None and isinstance(f.value, str) else r.strings("selector")
    if not selectors:
        r.fail("selector", "dkim.selector is required: a name, or a list (the first signs)")
    ed25519 = r.text("ed25519_selector", "")
    for selector in (*selectors, *([ed25519] if ed25519 else [])):
        if not all(DNS_LABEL.match(label) for label in selector.split(".")):
            r.fail("selector", f"dkim selector '{selector}' is not a DNS label", "e.g. press2026")
    return DkimSettings(domain, tuple(selectors), ed25519)


def _subscribers(r: _Reader) -> SubscriberSettings:
    return SubscriberSettings(
        database=r.text("database", "sqlite:///var/subscribers.sqlite3"),
        rate_limit=r.integer("rate_limit", 10, minimum=0),
        confirm_hours=r.integer("confirm_hours", 72),
        trusted_proxies=r.strings("trusted_proxies"),
    )


def _delivery(r: _Reader) -> DeliverySettings:
    return DeliverySettings(
        connections=r.integer("connections", 4),
        max_attempts=r.integer("max_attempts", 4),
        retry_delay=r.seconds("retry_delay", 30.0),
        pause_after=r.integer("pause_after", 25),
        bounce_limit=r.integer("bounce_limit", 2),
    )


def read_authors(root: Path) -> tuple[dict[str, Author], list[Problem]]:
    shown, fields, problems = load_yaml_file(root / "site_config" / "authors.yml", root)
    if fields is None:
        return {}, problems
    top = fields.get("authors")
    if top is None or not isinstance(top.value, dict):
        problems.append(Problem(shown, 1, 1, "authors.yml must have an 'authors' mapping"))
        return {}, problems
    authors = {}
    for author_id, data in top.value.items():
        author = _author(str(author_id), data, shown, top, problems)
        if author:
            authors[author.id] = author
    return authors, problems


def _author(
    author_id: str, data: Any, shown: str, top: Field, problems: list[Problem]
) -> Author | None:
    def fail(msg: str) -> None:
        problems.append(Problem(shown, top.line, top.col, f"author '{author_id}': {msg}"))

    if not isinstance(data, dict):
        fail("must be a mapping with name, description and avatar")
        return None
    extra = sorted(set(data) - AUTHOR_KEYS)
    if extra:
        fail(
            f"unknown key '{extra[0]}' (Material's schema allows {', '.join(sorted(AUTHOR_KEYS))})"
        )
    missing = [k for k in ("name", "description", "avatar") if not isinstance(data.get(k), str)]
    if missing:
        fail(f"'{missing[0]}' is required and must be text")
        return None
    slug = str(data.get("slug") or author_id)
    return Author(author_id, data["name"], data["description"], data["avatar"], slug)
