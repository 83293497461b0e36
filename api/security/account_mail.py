"""Mail about a person's account sent by the API itself (no workflow owns an account):
password reset links of owners and dealer users. Outbox row and Message-ID as usual."""

from __future__ import annotations

from typing import Any

import structlog

from activities.email import EmailActivities, SmtpMailer
from activities.email_templates import EmailRenderer
from activities.email_types import EmailInput
from carflow.settings import Settings

log = structlog.get_logger(__name__)


async def send_account_mail(session_factory: Any, settings: Settings, mail: EmailInput) -> None:
    """Deliver once, after the page answered. If SMTP is down the person simply asks again;
    the failure is logged for ADV."""
    email = EmailActivities(settings, session_factory, EmailRenderer(), SmtpMailer(settings))
    try:
        await email.deliver_once(mail)
    except Exception as exc:  # noqa: BLE001 - logged; the person can ask again
        log.warning("account_mail_failed", template=mail.template, error=str(exc)[:200])
