"""FastAPI dependency of the listing side: the listing workflows' client, when Temporal answers.

Used by the public contact form and the owner's space (api/owners/), both actions on a
listing's workflow. Not in api/deps.py: that module is below every domain package.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.deps import SettingsDep, get_temporal_or_none
from api.lifecycle_client import ListingWorkflows, listing_workflows


async def get_listing_workflows(request: Request, settings: SettingsDep) -> ListingWorkflows | None:
    """None when Temporal cannot be reached: reads still work, actions answer 503."""
    client = await get_temporal_or_none(request)
    return listing_workflows(client, settings) if client is not None else None


WorkflowsDep = Annotated[ListingWorkflows | None, Depends(get_listing_workflows)]
