"""Before a send: every page the digest links to must be live, or readers get a 404.

The issue's articles and its web archive page are fetched from the live site with a short
timeout; a page counts as live when it answers 200 and shows what the digest promises (the
article's title; on the archive page, every title of the issue). When links are counted, the
service's redirect must answer too, or every click would fail.
"""

from __future__ import annotations

import html
import urllib.error
import urllib.request
from collections.abc import Callable

from generator.digest.render import RenderedDigest

TIMEOUT = 5.0  # seconds per page
MAX_PAGE = 5 * 1024 * 1024  # bytes read from one page at most

Fetch = Callable[[str], tuple[int, str]]


def issue_pages(rendered: RenderedDigest) -> list[tuple[str, list[str]]]:
    """(URL, texts it must show) for each article and for the issue's archive page."""
    pages = [(article.url, [article.title]) for article in rendered.articles]
    pages.append((rendered.view_url, [article.title for article in rendered.articles]))
    return pages


def missing_pages(pages: list[tuple[str, list[str]]], fetch: Fetch | None = None) -> list[str]:
    """One line per page that is not live, saying why; empty when every page is."""
    fetch = fetch or fetch_page
    missing = []
    for url, texts in pages:
        try:
            status, body = fetch(url)
        except (OSError, ValueError) as exc:
            missing.append(f"{url} ({_reason(exc)})")
            continue
        shown = html.unescape(body)
        absent = [text for text in texts if text not in shown]
        if status != 200:
            missing.append(f"{url} (HTTP {status})")
        elif absent:
            missing.append(f"{url} (answers, but does not show '{absent[0]}')")
    return missing


def fetch_page(url: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"User-Agent": "leadership-press live check"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, response.read(MAX_PAGE).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, ""


Redirect = Callable[[str], tuple[int, str]]  # url -> (status, Location) without following


def redirect_problem(url: str, target: str, head: Redirect | None = None) -> str:
    """Why the counted link `url` does not redirect to `target` ("" when it does): a HEAD
    request, which the service answers without counting it."""
    try:
        status, location = (head or head_request)(url)
    except (OSError, ValueError) as exc:
        return f"{url} ({_reason(exc)})"
    if status != 302:
        return f"{url} (HTTP {status}, not a redirect to the article)"
    if location != target:
        return f"{url} (redirects to {location or 'nowhere'}, not {target})"
    return ""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def head_request(url: str) -> tuple[int, str]:
    opener = urllib.request.build_opener(_NoRedirects)
    request = urllib.request.Request(
        url, method="HEAD", headers={"User-Agent": "leadership-press live check"}
    )
    try:
        with opener.open(request, timeout=TIMEOUT) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location", "")


def _reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or exc
    return str(reason) or type(exc).__name__
