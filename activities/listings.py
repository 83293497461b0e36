"""The listing workflow's activities: read model, report PDF, owner credentials, emails.

* `project_listing` writes the workflow's state into the read model (versioned: a retried
  or late write never moves it back);
* `render_inspection_report` renders the report PDF once and stores it by content hash;
* `send_owner_welcome` gives a new owner a password: generated here, stored as an argon2
  hash, mailed once. It is never an activity input or result, so never in history;
* `send_listing_email` sends the contact, share and expiry emails, addressed from the
  database as it is at sending time.

Emails go through `EmailActivities.deliver_once` (outbox row + deterministic Message-ID).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.database import DatabaseActivities, write_projection
from activities.email import EmailActivities
from activities.email_types import Attachment, EmailInput, EmailResult
from activities.heartbeat import heartbeating
from activities.reports import ReportRenderer, load_inspection, report_context
from carflow.formatting import euros, french_date
from carflow.links import (
    owner_forgot_password_url,
    owner_listing_url,
    owner_login_url,
    public_listing_url,
    report_url,
)
from carflow.password_hashing import generate_password, hash_password
from carflow.records import fields_of
from db.documents import DocumentStore
from db.models import ContactMessage, Inspection, Listing, ListingSurvey, OutboxEmail, Owner, ReportShare
from db.search_text import normalize
from statemachines.listing import ListingFacts
from workflows.listing_contract import (
    ACTIVITY_EMAIL,
    ACTIVITY_OWNER_WELCOME,
    ACTIVITY_PROJECT,
    ACTIVITY_REPORT,
    ListingProjection,
    ListingTask,
    OwnerWelcome,
)

EMAIL_TEMPLATES = {
    "contact_message": "listing_contact",
    "report_shared": "report_shared",
    "listing_expired": "listing_expired",
}


def _no_such(what: str, ident: object) -> ApplicationError:
    return ApplicationError(
        f"{what} {ident} is not in the database", non_retryable=True, type="NoSuchListing"
    )


@dataclass(eq=False)
class ListingActivities(DatabaseActivities):
    email: EmailActivities
    documents: DocumentStore
    reports: ReportRenderer = field(default_factory=ReportRenderer)

    # --- read model ------------------------------------------------------------------------

    @activity.defn(name=ACTIVITY_PROJECT)
    async def project_listing(self, data: ListingProjection) -> bool:
        """True when this projection was written, False when a newer one already was."""
        listing_id = uuid.UUID(data.listing_id)
        values: dict[str, Any] = {
            **fields_of(data, ListingFacts),
            "publicly_visible": data.publicly_visible,
            "location_key": normalize(data.location),  # what the public search matches
            "survey_completed_at": data.survey.completed_at if data.survey else None,
        }
        async with self.session_factory() as session:
            written = await write_projection(session, Listing, listing_id, data, values)
            if written and data.survey is not None:
                exists = await session.scalar(
                    select(ListingSurvey.id).where(ListingSurvey.listing_id == listing_id)
                )
                if exists is None:
                    answers = (list(data.survey.answers) + [""] * 4)[:4]
                    session.add(
                        ListingSurvey(
                            listing_id=listing_id,
                            answer_1=answers[0],
                            answer_2=answers[1],
                            answer_3=answers[2],
                            answer_4=answers[3],
                            publish=data.survey.publish,
                            cgu_accepted_at=data.survey.completed_at,
                            completed_at=data.survey.completed_at,
                        )
                    )
            await session.commit()
            if written:
                return True
            if await session.get(Listing, listing_id) is None:
                raise _no_such("listing", data.listing_id)
            return False

    # --- the report PDF ----------------------------------------------------------------------

    @activity.defn(name=ACTIVITY_REPORT)
    async def render_inspection_report(self, task: ListingTask) -> str:
        """Render and store the report PDF (once); returns its SHA-256."""
        async with heartbeating(), self.session_factory() as session:
            listing = await session.get(Listing, uuid.UUID(task.listing_id))
            if listing is None:
                raise _no_such("listing", task.listing_id)
            inspection = await load_inspection(session, listing.inspection_id)
            if inspection is None:
                raise _no_such("inspection", listing.inspection_id)
            if inspection.report_pdf_sha256 and self.documents.get(inspection.report_pdf_sha256):
                return inspection.report_pdf_sha256
            pdf = await self.reports.pdf_async(report_context(inspection))
            digest = self.documents.put(pdf)
            inspection.report_pdf_sha256 = digest
            await session.commit()
        return digest

    # --- the owner's credentials ----------------------------------------------------------------

    @activity.defn(name=ACTIVITY_OWNER_WELCOME)
    async def send_owner_welcome(self, data: OwnerWelcome) -> EmailResult | None:
        """A new owner gets a password by email; a returning owner is told of the new inspection.

        Retries are safe: once the credentials email is marked sent in the outbox, no new
        password is generated, so the password in the mailbox stays the valid one. (A retry
        after a send whose outcome was lost mails a fresh password with the same Message-ID:
        the newest one is the valid one.)
        """
        async with self.session_factory() as session:
            _listing, owner, inspection = await _listing_with_owner(session, data.listing_id)
            context = self._owner_context(owner, inspection)
            credentials_key = f"owner-{owner.id}:credentials"
            # Only the intake that created the account mails a password: two intakes racing
            # for one new owner must not mail two different passwords.
            if data.new_owner and owner.credentials_sent_at is None:
                if owner.password_hash is not None:
                    # A password was set but the email's fate is unknown (a crash mid-way):
                    # if the outbox says it went, it is the valid one; else issue a new one.
                    sent = await session.scalar(
                        select(OutboxEmail.status).where(OutboxEmail.idempotency_key == credentials_key)
                    )
                    if sent == "sent":
                        owner.credentials_sent_at = datetime.now(UTC)
                        await session.commit()
                        return None
                password = generate_password()
                owner.password_hash = await asyncio.to_thread(hash_password, password, self.settings)
                owner.failed_logins = 0
                owner.locked_until = None
                await session.commit()
                result = await self.email.deliver_once(
                    EmailInput(
                        idempotency_key=credentials_key,
                        template="owner_credentials",
                        to=[owner.email],
                        context={**context, "password": password},
                    )
                )
                owner.credentials_sent_at = datetime.now(UTC)
                await session.commit()
                return result
        # An existing account (reused at intake, or credentials already mailed): no password.
        return await self.email.deliver_once(
            EmailInput(
                idempotency_key=data.idempotency_key,
                template="owner_new_inspection",
                to=[owner.email],
                context=context,
            )
        )

    def _owner_context(self, owner: Owner, inspection: Inspection) -> dict[str, Any]:
        return {
            "first_name": owner.first_name,
            "email": owner.email,
            "vehicle": _vehicle(inspection),
            "inspected_on": french_date(inspection.inspected_at),
            "login_url": owner_login_url(self.settings),
            "forgot_url": owner_forgot_password_url(self.settings),
        }

    # --- contact, share and expiry emails -----------------------------------------------------

    @activity.defn(name=ACTIVITY_EMAIL)
    async def send_listing_email(self, task: ListingTask) -> EmailResult | None:
        template = EMAIL_TEMPLATES.get(task.kind)
        if template is None:
            raise ApplicationError(
                f"unknown listing email {task.kind!r}", non_retryable=True, type="BadEmail"
            )
        async with self.session_factory() as session:
            found = await self._load_email(session, task, template)
        if found is None:
            activity.logger.warning("nothing to send for %s", task.idempotency_key)
            return None
        return await self.email.deliver_once(found)

    async def _load_email(self, session: AsyncSession, task: ListingTask, template: str) -> EmailInput | None:
        listing, owner, inspection = await _listing_with_owner(session, task.listing_id)
        context: dict[str, Any] = {
            "owner_first_name": owner.first_name,
            "vehicle": _vehicle(inspection),
            "listing_url": public_listing_url(self.settings, listing.id),
            "space_url": owner_listing_url(self.settings, listing.id),
            "report_url": report_url(self.settings, inspection.id),
            "price": euros(listing.price_cents) if listing.price_cents else "",
        }
        if task.kind == "listing_expired":
            return EmailInput(task.idempotency_key, template, [owner.email], context)
        if task.kind == "contact_message":
            message = await session.get(ContactMessage, uuid.UUID(task.ref_id or ""))
            if message is None:
                return None
            context["sender"] = {"name": message.name, "email": message.email, "phone": message.phone or ""}
            context["message"] = message.message
            return EmailInput(task.idempotency_key, template, [owner.email], context, reply_to=message.email)
        share = await session.get(ReportShare, uuid.UUID(task.ref_id or ""))
        if share is None:
            return None
        context["owner_name"] = f"{owner.first_name} {owner.last_name}"
        context["message"] = share.message
        attachments = []
        if inspection.report_pdf_sha256 and self.documents.get(inspection.report_pdf_sha256):
            attachments.append(
                Attachment(f"rapport-expertise-{inspection.reference}.pdf", inspection.report_pdf_sha256)
            )
        return EmailInput(
            task.idempotency_key,
            template,
            [share.recipient_email],
            context,
            reply_to=owner.email,
            attachments=attachments,
        )


async def _listing_with_owner(session: AsyncSession, listing_id: str) -> tuple[Listing, Owner, Inspection]:
    listing = await session.get(Listing, uuid.UUID(listing_id))
    if listing is None:
        raise _no_such("listing", listing_id)
    owner = await session.get(Owner, listing.owner_id)
    inspection = await session.get(Inspection, listing.inspection_id)
    assert owner is not None and inspection is not None  # foreign keys
    return listing, owner, inspection


def _vehicle(inspection: Inspection) -> str:
    return f"{inspection.vehicle_make} {inspection.vehicle_model} ({inspection.vehicle_registration})"
