"""Every activity the worker runs, built with its dependencies (bound methods)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.email import EmailActivities, SmtpMailer
from activities.email_templates import EmailRenderer
from activities.records import RecordsActivities
from carflow.settings import Settings


def build_activities(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> list[Callable[..., Any]]:
    email = EmailActivities(settings, session_factory, EmailRenderer(), SmtpMailer(settings))
    records = RecordsActivities(session_factory)
    return [email.send_email, email.send_proposal_email, records.project_proposal]
