"""FastAPI dependencies of the buyer's pages and JSON steps: the service, the signature provider."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from activities.signature import SignatureProvider, build_provider
from api.buyer.service import BuyerService
from api.deps import OptionalTemporalDep, SessionDep, SettingsDep
from api.lifecycle_client import proposal_workflows
from carflow.settings import Settings


async def get_buyer_service(
    request: Request, session: SessionDep, settings: SettingsDep, client: OptionalTemporalDep
) -> BuyerService:
    # Without Temporal, reads fall back to the read model; steps answer 503.
    workflows = proposal_workflows(client, settings) if client is not None else None
    return BuyerService(session, settings, workflows)


Buyer = Annotated[BuyerService, Depends(get_buyer_service)]


def app_signature_provider(request: Request, settings: Settings) -> SignatureProvider:
    """The app's signature provider (DocuSign or local), built on first use and kept."""
    provider: SignatureProvider | None = getattr(request.app.state, "signature_provider", None)
    if provider is None:
        provider = build_provider(settings)
        request.app.state.signature_provider = provider
    return provider
