"""The email activity: render a French template, send it over SMTP exactly once.

Exactly once, as far as SMTP allows: each logical email has an idempotency key and an
outbox row, written with the attempt's outcome. A retry after a successful send finds the
row `sent` and stops. The Message-ID is derived from the key, so in the one window we cannot
close (sent, then crashed before the row was marked) the duplicate carries the same
Message-ID and mail clients fold it.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import aiosmtplib
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.database import DatabaseActivities, proposal_and_dealer
from activities.email_templates import EmailRenderer, RenderedEmail, UnknownTemplate
from activities.email_types import EmailInput, EmailResult
from activities.proposal_emails import proposal_email
from carflow.settings import Settings
from db.documents import DocumentStore
from db.models import OutboxEmail, Proposal
from workflows.proposal_contract import ACTIVITY_EMAIL, ProposalEmail


class SmtpMailer:
    """The SMTP edge, from settings. Tests point it at a real aiosmtpd sink."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def where(self) -> str:
        return f"{self.settings.smtp_host}:{self.settings.smtp_port}"

    async def deliver(self, message: EmailMessage) -> None:
        s = self.settings
        await aiosmtplib.send(
            message,
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            start_tls=s.smtp_starttls,
            timeout=30,
        )


def message_id_for(key: str, sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "carflow.localhost"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


@dataclass(eq=False)
class EmailActivities(DatabaseActivities):
    renderer: EmailRenderer
    mailer: SmtpMailer
    documents: DocumentStore | None = None

    @activity.defn(name="send_email")
    async def send_email(self, data: EmailInput) -> EmailResult:
        return await self.deliver_once(data)

    @activity.defn(name=ACTIVITY_EMAIL)
    async def send_proposal_email(self, data: ProposalEmail) -> EmailResult | None:
        """A proposal's email, addressed from the database as it is now (after corrections)."""
        async with self.session_factory() as session:
            return await self.send_proposal_email_in(session, data)

    async def send_proposal_email_in(self, session: AsyncSession, data: ProposalEmail) -> EmailResult | None:
        """`send_proposal_email` in the caller's session: the signature's three emails read
        the proposal and its dealer once (the session's identity map), not once each."""
        proposal, dealer = await proposal_and_dealer(session, data.proposal_id)
        found = await proposal_email(session, self.settings, data, proposal, dealer)
        if found is None:  # e.g. a dealer without a contact email: nothing to send
            activity.logger.warning("no recipient for %s of proposal %s", data.template, data.proposal_id)
            return None
        try:
            result = await self.deliver_once(found, session)
        except ApplicationError as err:
            await session.rollback()  # what the failed attempt left unwritten stays so
            await self._delivery_delayed(session, data.proposal_id, err.message)
            raise
        # Only a delay shown to the dealer is cleared (most sends have none to clear).
        if proposal.email_delayed_since is not None:
            await self._delivery_delayed(session, data.proposal_id, None)
        return result

    async def _delivery_delayed(self, session: AsyncSession, proposal_id: str, reason: str | None) -> None:
        """Show the dealer at once that the buyer's mail is not out (`reason`), or is again.

        Written here, outside the workflow's projections, because the workflow hears of a
        failure only once the retry budget is spent (about 10 minutes); a projection does
        not touch these columns.
        """
        row_id = uuid.UUID(proposal_id)
        if reason is None:
            await session.execute(
                update(Proposal)
                .where(Proposal.id == row_id, Proposal.email_delayed_since.is_not(None))
                .values(email_delayed_since=None, email_delay_reason=None)
            )
        else:
            # Since the first failure: later attempts only refresh the reason.
            await session.execute(
                update(Proposal)
                .where(Proposal.id == row_id, Proposal.email_delayed_since.is_(None))
                .values(email_delayed_since=datetime.now(UTC))
            )
            await session.execute(
                update(Proposal).where(Proposal.id == row_id).values(email_delay_reason=reason[:1000])
            )
        await session.commit()

    async def deliver_once(self, data: EmailInput, session: AsyncSession | None = None) -> EmailResult:
        """Send `data` once (its outbox row), in `session` when the caller has one open."""
        if not data.to:
            raise ApplicationError("email has no recipient", non_retryable=True, type="BadEmail")
        try:
            rendered = self.renderer.render(
                data.template, {**data.context, "public_url": self.settings.public_url}
            )
        except UnknownTemplate as exc:
            raise ApplicationError(str(exc), non_retryable=True, type="BadEmail") from None
        message_id = message_id_for(data.idempotency_key, self.settings.mail_from)

        if session is None:
            async with self.session_factory() as own:
                return await self._deliver_in(own, data, rendered, message_id)
        return await self._deliver_in(session, data, rendered, message_id)

    async def _deliver_in(
        self, session: AsyncSession, data: EmailInput, rendered: RenderedEmail, message_id: str
    ) -> EmailResult:
        row = await session.scalar(
            select(OutboxEmail).where(OutboxEmail.idempotency_key == data.idempotency_key)
        )
        if row is not None and row.status == "sent":
            return EmailResult(row.message_id, already_sent=True)
        if row is None:
            # Written with the attempt's outcome (sent, or its error) in one commit: a crash
            # between the send and that commit leaves no row, and the retry sends again with
            # the same Message-ID, the very window named above.
            row = OutboxEmail(
                idempotency_key=data.idempotency_key,
                message_id=message_id,
                template=data.template,
                recipients=", ".join(data.to),
                subject=rendered.subject[:500],
                status="pending",
                attempts=0,
            )
            session.add(row)
        elif not row.message_id:  # queued ahead by a dealer notice (db/dealer_notices.py)
            row.message_id, row.subject = message_id, rendered.subject[:500]

        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = ", ".join(data.to)
        message["Subject"] = rendered.subject
        message["Message-ID"] = message_id
        message["Date"] = formatdate(localtime=False)
        if data.reply_to:
            message["Reply-To"] = data.reply_to
        message.set_content(rendered.text)
        message.add_alternative(rendered.html, subtype="html")
        for attachment in data.attachments:
            content = self.documents.get(attachment.sha256) if self.documents else None
            if content is None:
                raise ApplicationError(
                    f"attachment {attachment.filename} ({attachment.sha256[:12]}…) is not in the "
                    f"document store ({data.idempotency_key})",
                    type="DocumentMissing",
                )
            maintype, _, subtype = attachment.content_type.partition("/")
            message.add_attachment(content, maintype=maintype, subtype=subtype, filename=attachment.filename)

        row.attempts += 1
        try:
            await self.mailer.deliver(message)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            await self._fail(session, row, f"SMTP {self.mailer.where} refused the recipients: {exc}")
            raise ApplicationError(
                f"SMTP {self.mailer.where} refused the recipients {data.to} ({data.idempotency_key})",
                non_retryable=True,
                type="BadEmail",
            ) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            reason = _smtp_reason(self.mailer.where, exc)
            await self._fail(session, row, reason)
            raise ApplicationError(f"{reason} ({data.idempotency_key})", type="SmtpUnavailable") from None
        row.status = "sent"
        row.sent_at = datetime.now(UTC)
        row.last_error = None
        await _commit_outbox(session)
        activity.logger.info("email %s sent to %s", data.idempotency_key, ", ".join(data.to))
        return EmailResult(message_id, already_sent=False)

    async def _fail(self, session: AsyncSession, row: OutboxEmail, reason: str) -> None:
        row.last_error = reason[:1000]
        await _commit_outbox(session)


async def _commit_outbox(session: AsyncSession) -> None:
    """Commit the outbox row; if a concurrent attempt inserted it first, its row stands."""
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()


def _smtp_reason(where: str, exc: BaseException) -> str:
    # Timeouts first: aiosmtplib's SMTPConnectTimeoutError is also an SMTPConnectError.
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | aiosmtplib.SMTPConnectTimeoutError | TimeoutError):
        return f"SMTP {where} timed out"
    if isinstance(exc, aiosmtplib.SMTPConnectError | ConnectionRefusedError) or "refused" in str(exc).lower():
        return f"SMTP {where} refused connection"
    return f"SMTP {where} failed: {str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}"
