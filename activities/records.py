"""The `records` activities: project a workflow's state into the database read model.

Idempotent and ordered: a projection carries the workflow's version counter and only a
newer version overwrites, so a retried or late activity never moves the read model back.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.database import write_projection
from carflow.records import fields_of
from db.models import Proposal
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
        proposal_id = uuid.UUID(data.proposal_id)
        async with self.session_factory() as session:
            written = await write_projection(session, Proposal, proposal_id, data, values)
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
