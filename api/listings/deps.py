"""FastAPI dependencies of the listing routes: the clock, Temporal, the logged-in owner."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from api.deps import SessionDep, SettingsDep, get_temporal
from api.errors import ApiError
from api.listings.owner_service import OwnerListings
from api.listings.workflow import ListingWorkflows
from api.security import csrf
from api.security.sessions import session_owner
from db.models import Owner, utcnow

Clock = Callable[[], datetime]


def get_clock(request: Request) -> Clock:
    """The API's clock; tests may set `app.state.clock` to pin "now"."""
    clock: Clock = getattr(request.app.state, "clock", utcnow)
    return clock


ClockDep = Annotated[Clock, Depends(get_clock)]


async def get_listing_workflows(request: Request, settings: SettingsDep) -> ListingWorkflows | None:
    """None when Temporal cannot be reached: reads still work, actions answer 503."""
    try:
        client = await get_temporal(request)
    except ApiError:
        return None
    return ListingWorkflows(client, settings)


WorkflowsDep = Annotated[ListingWorkflows | None, Depends(get_listing_workflows)]


async def get_current_owner(request: Request, session: SessionDep, settings: SettingsDep) -> Owner:
    owner = await session_owner(request, session, settings)
    if owner is None:
        raise ApiError(
            401, "not_logged_in", "Log in first: POST /api/v1/owner/login with your email and password."
        )
    return owner


CurrentOwner = Annotated[Owner, Depends(get_current_owner)]


async def check_csrf(request: Request, settings: SettingsDep) -> None:
    csrf.check_api_request(request, settings)


CsrfChecked = Depends(check_csrf)


async def get_owner_listings(
    request: Request, session: SessionDep, settings: SettingsDep, owner: CurrentOwner, clock: ClockDep
) -> OwnerListings:
    return OwnerListings(session, settings, owner, lambda: get_listing_workflows(request, settings), clock)


OwnerListingsDep = Annotated[OwnerListings, Depends(get_owner_listings)]
