"""Every activity the worker runs, built with its dependencies (bound methods)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.contract_documents import ContractDocuments
from activities.dealer_notices import DealerNoticeActivities
from activities.document_templates import KINDS
from activities.documents import DocumentRenderer
from activities.email import EmailActivities, SmtpMailer
from activities.email_templates import EmailRenderer
from activities.listings import ListingActivities
from activities.records import RecordsActivities
from activities.signature import build_provider
from activities.signature_activities import SignatureActivities
from activities.signing import SigningActivities
from carflow.settings import Settings
from db.documents import DocumentStore


def build_activities(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> list[Callable[..., Any]]:
    documents = DocumentStore(settings.documents_dir)
    email = EmailActivities(settings, session_factory, EmailRenderer(), SmtpMailer(settings), documents)
    records = RecordsActivities(session_factory)
    signing = SigningActivities(settings, session_factory, DocumentRenderer(), documents, email)
    signature = SignatureActivities(settings, build_provider(settings), session_factory, documents)
    listings = ListingActivities(settings, session_factory, email, documents)
    notices = DealerNoticeActivities(settings, session_factory, email)
    return [
        email.send_email,
        email.send_proposal_email,
        records.project_proposal,
        signing.finalize_signature,
        signing.complete_signature,
        signing.send_signing_code,
        signature.create_signature_envelope,
        signature.prepare_signing,
        signature.void_signature_envelope,
        listings.project_listing,
        listings.render_inspection_report,
        listings.send_owner_welcome,
        listings.send_listing_email,
        notices.relay_dealer_notices,
    ]


async def warm_documents(settings: Settings) -> None:
    """Render the general conditions of each kind once (if this version never was), so the
    API can serve them from the first page load: it makes no PDF itself."""
    documents = ContractDocuments(DocumentRenderer(), DocumentStore(settings.documents_dir))
    for kind in KINDS:
        await documents.general_conditions(kind)
