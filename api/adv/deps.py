"""FastAPI dependency of the ADV operations API: the operations, for a staff token only."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.adv.service import AdvOperations
from api.adv.visibility import WorkflowsUnseen
from api.deps import ClockDep, CurrentStaff, OptionalTemporalDep, SessionDep, SettingsDep
from api.errors import ApiError


def workflows_unseen(detail: str) -> ApiError:
    """A 503 saying so, never an empty list that would read as "nothing stuck"."""
    return ApiError(
        503,
        "temporal_unavailable",
        f"Cannot see the workflows: Temporal did not answer ({detail}). "
        "Nothing can be said about stuck workflows until it does; try again shortly.",
    )


async def get_operations(
    request: Request,
    _staff: CurrentStaff,  # first: a wrong token is a 401/403 even when Temporal is down
    session: SessionDep,
    settings: SettingsDep,
    client: OptionalTemporalDep,
    clock: ClockDep,
) -> AdvOperations:
    if client is None:
        raise workflows_unseen("cannot connect")
    return AdvOperations(settings, session, client, now=clock, watch=request.app.state.adv_problems)


__all__ = ["Operations", "WorkflowsUnseen", "get_operations", "workflows_unseen"]


Operations = Annotated[AdvOperations, Depends(get_operations)]
