"""The `records` activities: project a workflow's state into the database read model.

Idempotent and ordered: a projection carries the workflow's version counter and only a
newer version overwrites, so a retried or late activity never moves the read model back.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.database import write_projection
from carflow.records import fields_of
from db.dealer_notices import queue_notice
from db.models import Dealer, Proposal, ProposalTimelineEntry
from statemachines.proposal import ProposalTimeline
from workflows.proposal_contract import ACTIVITY_PROJECT, ProposalProjection

# A contract is in force from signature (DESIGN §3); withdrawal ends it.
CONTRACT_STATUS = {"signed": "active", "binding": "active", "withdrawn": "withdrawn"}


class RecordsActivities:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory

    @activity.defn(name=ACTIVITY_PROJECT)
    async def project_proposal(self, data: ProposalProjection) -> bool:
        """True when this projection was written, False when a newer one already was."""
        values = {
            "expires_at": data.expires_at,
            **fields_of(data, ProposalTimeline),
            "contract_status": CONTRACT_STATUS.get(data.state, "none"),
        }
        if data.state == "withdrawn":  # when it was first recorded, for the dealer's activity
            values["withdrawn_at"] = func.coalesce(Proposal.withdrawn_at, datetime.now(UTC))
        proposal_id = uuid.UUID(data.proposal_id)
        async with self.session_factory() as session:
            # The facts before this projection, locked until it is written: the timeline's
            # steps are what changed between the two.
            before = (
                await session.execute(
                    select(*(getattr(Proposal, name) for name in _COMPARED))
                    .where(Proposal.id == proposal_id)
                    .with_for_update()
                )
            ).first()
            written = await write_projection(session, Proposal, proposal_id, data, values)
            if written and before is not None:
                for event, at, detail in timeline_steps(before._asdict(), data, datetime.now(UTC)):
                    session.add(
                        ProposalTimelineEntry(
                            proposal_id=proposal_id, version=data.version, event=event, at=at, detail=detail
                        )
                    )
                await self._queue_notices(session, proposal_id, before.state, before.first_viewed_at, data)
            await session.commit()
            if written:
                return True
            if await session.get(Proposal, proposal_id) is None:
                raise ApplicationError(
                    f"proposal {data.proposal_id} is not in the database",
                    non_retryable=True,
                    type="NoSuchProposal",
                )
            return False

    async def _queue_notices(
        self,
        session: AsyncSession,
        proposal_id: uuid.UUID,
        state_before: str,
        first_viewed_before: datetime | None,
        data: ProposalProjection,
    ) -> None:
        """The dealer's notices of what this projection records for the first time, queued
        in its transaction (db/dealer_notices.py): the buyer's first opening, a withdrawal.
        The signature's notice is the workflow's own email."""
        events = []
        if first_viewed_before is None and data.first_viewed_at is not None:
            events.append("first_view")
        if state_before != "withdrawn" and data.state == "withdrawn":
            events.append("withdrawn")
        if not events:
            return
        proposal = await session.get(Proposal, proposal_id)
        assert proposal is not None  # the projection just landed on it
        dealer = await session.get(Dealer, proposal.dealer_id)
        assert dealer is not None  # foreign key
        for event in events:
            await queue_notice(session, proposal, dealer, event)


_COMPARED = ("state", "sent_count", "first_sent_at", "view_count", "signed_at", "first_viewed_at")


def timeline_steps(
    before: dict[str, Any], data: ProposalProjection, now: datetime
) -> list[tuple[str, datetime, str]]:
    """The steps of the dealer's timeline between the stored facts and a newer projection:
    (event, when, detail). A fact's own timestamp when the machine keeps one (sendings,
    views, signature, end of validity), otherwise the projection's time (it runs right
    after the transition)."""
    steps: list[tuple[str, datetime, str]] = []
    if data.sent_count > before["sent_count"] and data.last_sent_at is not None:
        first = before["first_sent_at"] is None
        steps.append(("sent" if first else "resent", data.last_sent_at, str(data.sent_count)))
    if data.view_count > before["view_count"] and data.last_viewed_at is not None:
        steps.append(("viewed", data.last_viewed_at, str(data.view_count)))
    if data.signed_at is not None and before["signed_at"] is None:
        steps.append(("signed", data.signed_at, ""))
    moved = data.state != before["state"]
    if moved and data.state in _STATE_STEPS:
        at = data.expires_at if data.state == "expired" else now
        steps.append((data.state, at, before["state"]))
    if moved and before["state"] == "signing" and data.state in ("draft", "sent", "viewed"):
        steps.append(("abandoned", now, data.state))
    return steps


# The states whose arrival is a step of its own (sent, viewed and signed have theirs above).
_STATE_STEPS = frozenset({"signing", "withdrawn", "expired", "declined", "cancelled", "binding"})
