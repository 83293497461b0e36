"""What the activities that read or write the database share: how they are built, and how
a workflow's projection lands in the read model."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError

from carflow.settings import Settings
from db.models import Dealer, Listing, Proposal
from workflows.contract import LifecycleProjection


# eq=False: compared by identity, as the worker registers the bound methods of one instance.
@dataclass(eq=False)
class DatabaseActivities:
    settings: Settings
    session_factory: async_sessionmaker[AsyncSession]


async def proposal_and_dealer(session: AsyncSession, proposal_id: str) -> tuple[Proposal, Dealer]:
    """The proposal an activity is about, with its dealer; a proposal that is not there (or an
    id that is no proposal's) is a non-retryable `NoSuchProposal`: retrying cannot find it."""
    try:
        proposal = await session.get(Proposal, uuid.UUID(proposal_id))
    except ValueError:
        proposal = None
    if proposal is None:
        raise ApplicationError(
            f"proposal {proposal_id} is not in the database", non_retryable=True, type="NoSuchProposal"
        )
    dealer = await session.get(Dealer, proposal.dealer_id)
    assert dealer is not None  # foreign key
    return proposal, dealer


async def write_projection(
    session: AsyncSession,
    model: type[Proposal] | type[Listing],
    target_id: uuid.UUID,
    projection: LifecycleProjection,
    values: dict[str, Any],
) -> bool:
    """Write a projection into the read model row, with its kind's `values`, unless a newer
    one already was: only a higher version lands, so a retried or late activity never moves
    the read model back. True when written; the caller commits."""
    result = await session.execute(
        update(model)
        .where(model.id == target_id, model.state_version < projection.version)
        .values(
            state=projection.state,
            state_version=projection.version,
            **values,
            email_failed=projection.email_failed,
            email_error=projection.email_error,
            updated_at=datetime.now(UTC),
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
