"""FastAPI dependencies of the dealer's proposal API: the remote-sale gate and the services."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.deps import ClockDep, CurrentDealer, OptionalTemporalDep, SessionDep, SettingsDep, TemporalDep
from api.errors import ApiError
from api.lifecycle_client import proposal_workflows
from api.proposals.service import ProposalService
from db.accounts import Principal

# The seed FAQ: without the remote-sale option, "il faut contacter votre commercial".
REMOTE_SALE_DISABLED_MESSAGE = (
    "L'option vente à distance n'est pas activée sur votre compte. "
    "Contactez votre commercial pour la faire activer."
)


async def get_remote_sale_dealer(dealer: CurrentDealer) -> Principal:
    # Checked before the body is used: a dealer without the option creates nothing at all.
    if not dealer.remote_sale_enabled:
        raise ApiError(403, "remote_sale_disabled", REMOTE_SALE_DISABLED_MESSAGE)
    return dealer


async def get_service(
    dealer: CurrentDealer,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalDep,
    clock: ClockDep,
) -> ProposalService:
    return ProposalService(session, settings, dealer, proposal_workflows(client, settings), clock)


async def get_read_service(
    dealer: CurrentDealer,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    client: OptionalTemporalDep,
) -> ProposalService:
    """For reads: without Temporal the read model still answers (allowed_events included)."""
    workflows = proposal_workflows(client, settings) if client is not None else None
    return ProposalService(session, settings, dealer, workflows, clock)


RemoteSaleDealer = Annotated[Principal, Depends(get_remote_sale_dealer)]
Service = Annotated[ProposalService, Depends(get_service)]
ReadService = Annotated[ProposalService, Depends(get_read_service)]
