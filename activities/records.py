"""The `records` activities: project a workflow's state into the database read model.

Idempotent and ordered: a projection carries the workflow's version counter and only a
newer version overwrites, so a retried or late activity never moves the read model back.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db.models import Proposal
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
            "state": data.state,
            "state_version": data.version,
            "expires_at": data.expires_at,
            "first_sent_at": data.first_sent_at,
            "last_sent_at": data.last_sent_at,
            "sent_count": data.sent_count,
            "view_count": data.view_count,
            "first_viewed_at": data.first_viewed_at,
            "last_viewed_at": data.last_viewed_at,
            "signed_at": data.signed_at,
            "withdrawal_deadline": data.withdrawal_deadline,
            "contract_status": CONTRACT_STATUS.get(data.state, "none"),
            "email_failed": data.email_failed,
            "email_error": data.email_error,
            "updated_at": datetime.now(UTC),
        }
        proposal_id = uuid.UUID(data.proposal_id)
        async with self.session_factory() as session:
            result = await session.execute(
                update(Proposal)
                .where(Proposal.id == proposal_id, Proposal.state_version < data.version)
                .values(**values)
            )
            await session.commit()
            if result.rowcount:  # type: ignore[attr-defined]
                return True
            if await session.get(Proposal, proposal_id) is None:
                raise ApplicationError(
                    f"proposal {data.proposal_id} is not in the database",
                    non_retryable=True,
                    type="NoSuchProposal",
                )
            return False
