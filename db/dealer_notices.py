"""The dealer's notices (issue 13): a centre is emailed when a buyer first opens a proposal,
signs, withdraws, or when a proposal is about to expire unsigned (configurable per centre).

A notice is queued once per proposal and event: a `DealerNotice` row (its primary key is the
dedupe) and, in the same transaction, the email's outbox row (`pending`, idempotency key
`proposal-<id>:<template>:1`), which the worker's notices relay delivers through the email
activity's exactly-once path. The signature's notice is the workflow's own
`dealer_sale_notice` email; the settings decide whether and where it goes too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Dealer, DealerNotice, DealerNotificationSettings, OutboxEmail, Proposal

# The notice's event → its email template (activities/templates/email/<template>.*).
NOTICE_TEMPLATES = {
    "first_view": "dealer_first_view_notice",
    "signed": "dealer_sale_notice",
    "withdrawn": "dealer_withdrawal_notice",
    "expiring": "dealer_expiring_notice",
}
# What the outbox row's subject says until the relay renders the email.
NOTICE_SUBJECTS = {
    "first_view": "Proposition {contract} : première consultation",
    "withdrawn": "Contrat {contract} : rétractation",
    "expiring": "Proposition {contract} : bientôt expirée",
}


@dataclass(frozen=True)
class NoticeSettings:
    """A centre's choices; no row means every notice, to the centre's email."""

    email: str | None
    on_first_view: bool = True
    on_signed: bool = True
    on_withdrawn: bool = True
    on_expiring: bool = True

    def wants(self, event: str) -> bool:
        return bool(getattr(self, f"on_{event}"))

    def address(self, dealer: Dealer) -> str | None:
        return self.email or dealer.email


async def notice_settings(session: AsyncSession, dealer: Dealer) -> NoticeSettings:
    row = await session.get(DealerNotificationSettings, dealer.id)
    if row is None:
        return NoticeSettings(email=None)
    return NoticeSettings(row.email, row.on_first_view, row.on_signed, row.on_withdrawn, row.on_expiring)


def notice_key(proposal_id: uuid.UUID, event: str) -> str:
    # The workflow's key shape, so ADV sees a failing notice with the proposal's other emails.
    return f"proposal-{proposal_id}:{NOTICE_TEMPLATES[event]}:1"


async def queue_notice(session: AsyncSession, proposal: Proposal, dealer: Dealer, event: str) -> bool:
    """Queue the centre's notice of `event` unless already queued or not wanted (the caller
    commits, with the change that records the event). True when queued now."""
    settings = await notice_settings(session, dealer)
    address = settings.address(dealer)
    if not settings.wants(event) or not address:
        return False
    values = {"proposal_id": proposal.id, "event": event}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    result = await session.execute(insert(DealerNotice).values(**values).on_conflict_do_nothing())
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    key = notice_key(proposal.id, event)
    session.add(
        OutboxEmail(
            idempotency_key=key,
            message_id="",  # set by the email activity when it sends
            template=NOTICE_TEMPLATES[event],
            recipients=address,
            subject=NOTICE_SUBJECTS[event].format(contract=proposal.contract_number),
            status="pending",
            attempts=0,
        )
    )
    return True


async def pending_notices(session: AsyncSession, limit: int = 100) -> list[OutboxEmail]:
    """Queued notices not sent yet, oldest first (the partial index of unsent emails)."""
    templates = [NOTICE_TEMPLATES[event] for event in NOTICE_SUBJECTS]
    return list(
        await session.scalars(
            select(OutboxEmail)
            .where(OutboxEmail.status != "sent", OutboxEmail.template.in_(templates))
            .order_by(OutboxEmail.created_at)
            .limit(limit)
        )
    )
