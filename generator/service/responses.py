"""One answer, two shapes: a small page in the site's colours for people, JSON for scripts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from generator.content.site_config import SiteConfig
from generator.digest.templates import template_environment
from generator.service.requests import RequestRefused, wants_json


@dataclass(frozen=True)
class Answer:
    status: int
    title: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)  # extra JSON fields
    action: str | None = None  # a form with one button posting here
    action_label: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    template: str = "page.html.j2"  # in templates/service/
    context: dict[str, Any] = field(default_factory=dict)  # what that template gets besides
    redirect: str | None = None  # answer 302 to this URL instead


NOT_STORED = {"Cache-Control": "no-store"}


def respond(site: SiteConfig, request: Request, answer: Answer) -> Response:
    if answer.redirect is not None:
        return RedirectResponse(answer.redirect, 302, headers={**NOT_STORED, **answer.headers})
    if wants_json(request):
        body = {"ok": answer.status < 400, "message": answer.message, **answer.data}
        return JSONResponse(body, status_code=answer.status, headers=answer.headers)
    page = template_environment(site.root / "templates" / "service").get_template(answer.template)
    html = page.render(
        site=site,
        title=answer.title,
        message=answer.message,
        action=answer.action,
        action_label=answer.action_label,
        **answer.context,
    )
    return HTMLResponse(html, status_code=answer.status, headers=answer.headers)


def refusal(refused: RequestRefused) -> Answer:
    title = "Too many requests" if refused.status == 429 else "That did not work"
    return Answer(refused.status, title, refused.message, headers=refused.headers)
