"""Every activity the worker runs, built with its dependencies (bound methods)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.documents import DocumentRenderer, DocumentStore
from activities.email import EmailActivities, SmtpMailer
from activities.email_templates import EmailRenderer
from activities.records import RecordsActivities
from activities.signing import SigningActivities
from carflow.settings import Settings


def build_activities(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> list[Callable[..., Any]]:
    documents = DocumentStore(settings.documents_dir)
    email = EmailActivities(settings, session_factory, EmailRenderer(), SmtpMailer(settings), documents)
    records = RecordsActivities(session_factory)
    signing = SigningActivities(settings, session_factory, DocumentRenderer(), documents, email)
    return [
        email.send_email,
        email.send_proposal_email,
        records.project_proposal,
        signing.finalize_signature,
        signing.send_signing_code,
    ]
