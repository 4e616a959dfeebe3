"""The service's own emails: the double opt-in confirmation and the welcome after it.

Both are rendered from templates/email/ (text and HTML) and carry a deterministic Message-ID.
The welcome is list mail, so it carries the same one-click unsubscribe headers as the digest.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any
from urllib.parse import urljoin

from generator.content.site_config import SiteConfig
from generator.digest.message import MessageIds
from generator.digest.render import email_environment
from generator.tokens import Signer, subscription_subject


def confirmation_url(site: SiteConfig, signer: Signer, email: str, now: datetime) -> str:
    expires = now + timedelta(hours=site.subscribers.confirm_hours)
    token = signer.sign("confirm", email, expires=int(expires.timestamp()))
    return urljoin(site.subscribe_endpoint, f"confirm/{token}")


def confirmation_message(site: SiteConfig, email: str, url: str, now: datetime) -> bytes:
    context = {"site": site, "confirm_url": url, "hours": site.subscribers.confirm_hours}
    msg = templated_message(site, "confirm", email, context, now)
    msg["Subject"] = f"Please confirm your subscription to {site.name}"
    msg["Message-ID"] = message_id(site, "confirm", f"{email}|{now.isoformat()}")
    msg["Auto-Submitted"] = "auto-generated"
    return msg.as_bytes()


def welcome_message(
    site: SiteConfig,
    email: str,
    signer: Signer,
    latest_issue: date | None,
    now: datetime,
    generation: int = 0,
) -> bytes:
    """Sent once, after the address is confirmed: what to expect, the latest issue to read now,
    and the way out (RFC 8058 one-click unsubscribe, as on every digest), bound to this
    subscription (`generation`)."""
    token = signer.sign("unsubscribe", subscription_subject(email, generation))
    unsubscribe = site.email.unsubscribe_url + token
    archive = f"newsletter/{latest_issue.isoformat()}/" if latest_issue else "newsletter/"
    context = {
        "site": site,
        "latest_issue": f"{latest_issue:%d/%m/%Y}" if latest_issue else "",
        "archive_url": site.absolute(archive),
        "unsubscribe_url": unsubscribe,
        # The same token opens the preferences page (it can do no more than unsubscribe).
        "preferences_url": site.service_url("preferences/") + token,
    }
    msg = templated_message(site, "welcome", email, context, now)
    msg["Subject"] = f"Welcome to {site.name}"
    msg["Message-ID"] = message_id(site, "welcome", email)
    msg["List-Id"] = f"{site.name} <digest.{site.domain}>"
    mailto = f"mailto:{site.email.unsubscribe_mailto}?subject=unsubscribe%20{token}"
    msg["List-Unsubscribe"] = f"<{unsubscribe}>, <{mailto}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return msg.as_bytes()


def templated_message(
    site: SiteConfig, template: str, to: str, context: dict[str, Any], now: datetime
) -> EmailMessage:
    """From, To, Date, and the text and HTML parts of `template`.{txt,html}.j2."""
    env = email_environment(site)
    msg = EmailMessage(policy=SMTP)
    msg["From"] = site.email.sender()
    msg["To"] = to
    msg["Date"] = format_datetime(now)
    msg.set_content(env.get_template(f"{template}.txt.j2").render(context))
    msg.add_alternative(env.get_template(f"{template}.html.j2").render(context), subtype="html")
    return msg


def message_id(site: SiteConfig, kind: str, key: str) -> str:
    return f"<{MessageIds(kind, '', site.domain).make(key).decode()}>"
