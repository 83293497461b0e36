"""FastAPI dependency of the ADV operations API: the operations, for a staff token only."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.adv.service import AdvOperations
from api.deps import ClockDep, CurrentStaff, SessionDep, SettingsDep, TemporalDep


async def get_operations(
    _staff: CurrentStaff,  # first: a wrong token is a 401/403 even when Temporal is down
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalDep,
    clock: ClockDep,
) -> AdvOperations:
    return AdvOperations(settings, session, client, now=clock)


Operations = Annotated[AdvOperations, Depends(get_operations)]
