"""The double opt-in email: a signed, expiring link that turns a pending address active."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from urllib.parse import urljoin

from generator.content.site_config import SiteConfig
from generator.digest.message import MessageIds
from generator.digest.render import email_environment
from generator.tokens import Signer


def confirmation_url(site: SiteConfig, signer: Signer, email: str, now: datetime) -> str:
    expires = now + timedelta(hours=site.subscribers.confirm_hours)
    token = signer.sign("confirm", email, expires=int(expires.timestamp()))
    return urljoin(site.subscribe_endpoint, f"confirm/{token}")


def confirmation_message(site: SiteConfig, email: str, url: str, now: datetime) -> bytes:
    env = email_environment(site)
    context = {"site": site, "confirm_url": url, "hours": site.subscribers.confirm_hours}
    msg = EmailMessage(policy=SMTP)
    msg["From"] = site.email.sender()
    msg["To"] = email
    msg["Subject"] = f"Please confirm your subscription to {site.name}"
    msg["Date"] = format_datetime(now)
    message_id = MessageIds("confirm", "", site.domain).make(f"{email}|{now.isoformat()}")
    msg["Message-ID"] = f"<{message_id.decode()}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(env.get_template("confirm.txt.j2").render(context))
    msg.add_alternative(env.get_template("confirm.html.j2").render(context), subtype="html")
    return msg.as_bytes()
