"""The owner's listings and what an owner does with them, shared by the JSON API and /espace.

Each action checks ownership (another owner's listing is a 404), then asks the listing's
machine standing where the read model says (the survey first, nothing once archived: a
fast, clear 409 even while Temporal is down), then goes through the workflow, which
decides for good. The answer is read back from the read model, which the workflow's
records activity wrote before the update returned.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from api.deps import Clock
from api.errors import ApiError
from api.lifecycle_client import EventRefused, ListingWorkflows, WorkflowGone
from api.listings.service import NOT_FOUND_EN, Row, lifecycle_of, report_pdf, with_inspection
from api.owners.schemas import ListingPatch, ShareBody, SurveyBody
from api.paging import Found, Keyset, PageParams, fetch_page
from api.security import rate_limit
from carflow.settings import Settings
from db.models import Inspection, Listing, Owner, ReportShare
from statemachines.listing import Actor, ListingState
from workflows.listing_contract import (
    LISTING,
    UPDATE_EDIT,
    UPDATE_SHARE_REPORT,
    EventRequest,
    ListingEdit,
    ListingStatus,
    ShareRequest,
    SurveyAnswers,
)

# The listing workflows' client, or how to get it when an action needs it.
WorkflowsSource = ListingWorkflows | None | Callable[[], Awaitable[ListingWorkflows | None]]


# --- queries ----------------------------------------------------------------------------------


# Newest first: a listing is created with its inspection, so this is also inspection order.
OWNER_LISTINGS = Keyset("owner_listings", (Listing.created_at, Listing.id))


def owned_query(owner_id: uuid.UUID) -> Select[Any]:
    return select(Listing).where(Listing.owner_id == owner_id)


async def owner_rows(session: AsyncSession, owner_id: uuid.UUID) -> list[Row]:
    """All the owner's listings (their space's page shows them all)."""
    result = await session.execute(with_inspection(OWNER_LISTINGS.ordered(owned_query(owner_id))))
    return [Row(listing, inspection) for listing, inspection in result.all()]


async def owner_page(
    session: AsyncSession, owner_id: uuid.UUID, params: PageParams
) -> tuple[list[Row], Found]:
    found = await fetch_page(session, owned_query(owner_id), OWNER_LISTINGS, params, widen=with_inspection)
    return [Row(listing, inspection) for listing, inspection in found.items], found


async def owned_row(
    session: AsyncSession,
    owner_id: uuid.UUID,
    listing_id: uuid.UUID,
    *,
    full: bool = False,
    fresh: bool = False,
) -> Row:
    """The owner's listing, or 404 (another owner's listing is indistinguishable from none).

    `fresh` re-reads rows this session already holds (the records activity wrote them
    through another connection)."""
    query = select(Listing, Inspection).join(Inspection, Inspection.id == Listing.inspection_id)
    if fresh:
        query = query.execution_options(populate_existing=True)
    if full:
        query = query.options(selectinload(Inspection.checkpoints), selectinload(Inspection.photos))
    found = (
        await session.execute(query.where(Listing.id == listing_id, Listing.owner_id == owner_id))
    ).first()
    if found is None:
        raise ApiError(404, "not_found", NOT_FOUND_EN)
    return Row(found[0], found[1])


# --- actions ----------------------------------------------------------------------------------


@dataclass
class OwnerListings:
    session: AsyncSession
    settings: Settings
    owner: Owner
    # Temporal is only reached for actions: reads answer even while it is down.
    _workflows: WorkflowsSource
    clock: Clock
    owner_id: uuid.UUID = field(init=False)

    def __post_init__(self) -> None:
        self.owner_id = self.owner.id

    async def workflows(self) -> ListingWorkflows | None:
        if callable(self._workflows):
            self._workflows = await self._workflows()
        return self._workflows

    async def get(self, listing_id: uuid.UUID, *, full: bool = False) -> Row:
        return await owned_row(self.session, self.owner_id, listing_id, full=full)

    async def reload(self, listing_id: uuid.UUID, *, full: bool = False) -> Row:
        # The records activity wrote the new state through another connection.
        return await owned_row(self.session, self.owner_id, listing_id, full=full, fresh=True)

    def gate(self, row: Row, action: str, *, published: bool | None = None) -> None:
        """Refuse at once what the machine, standing where the read model says, refuses."""
        machine = lifecycle_of(row.listing)
        now = self.clock()
        refusal = (
            machine.edit_refusal(now=now, published=published)
            if action == UPDATE_EDIT
            else machine.refusal(action, now=now, actor=Actor.OWNER)
        )
        if refusal is not None:
            raise EventRefused(
                LISTING,
                action,
                machine.state,
                machine.allowed(now=now, actor=Actor.OWNER),
                refusal.reason,
                code=refusal.code,
            )

    async def _fire(
        self, row: Row, action: str, argument: object, update_id: str | None = None
    ) -> ListingStatus:
        workflows = await self.workflows()
        if workflows is None:
            raise ApiError(
                503, "temporal_unavailable", "Temporal is not reachable; please retry in a moment."
            )
        try:
            return await workflows.fire(
                row.listing.id, action, argument, update_id=update_id, version=row.listing.state_version
            )
        except WorkflowGone:
            # Closed: the listing was archived (the read model may lag by a moment).
            raise EventRefused(
                LISTING, action, ListingState.ARCHIVED, [], "the listing is archived since its sale"
            ) from None

    async def complete_survey(self, listing_id: uuid.UUID, body: SurveyBody) -> Row:
        row = await self.get(listing_id)
        self.gate(row, "complete_survey")
        survey = SurveyAnswers(
            answers=list(body.answers), publish=body.publish, cgu_accepted=body.cgu_accepted
        )
        await self._fire(row, "complete_survey", EventRequest(actor="owner", survey=survey))
        return await self.reload(listing_id)

    async def edit(self, listing_id: uuid.UUID, body: ListingPatch) -> Row:
        row = await self.get(listing_id)
        self.gate(row, UPDATE_EDIT, published=body.published)
        change = ListingEdit(
            published=body.published,
            price_cents=body.price_cents,
            negotiable=body.negotiable,
            location=body.location,
        )
        await self._fire(row, UPDATE_EDIT, change)
        return await self.reload(listing_id)

    async def mark_sold(self, listing_id: uuid.UUID) -> Row:
        row = await self.get(listing_id)
        if lifecycle_of(row.listing).is_sold():
            return row  # already sold: saying it twice is not an error
        self.gate(row, "mark_sold")
        await self._fire(row, "mark_sold", EventRequest(actor="owner"))
        return await self.reload(listing_id)

    async def share(self, listing_id: uuid.UUID, body: ShareBody) -> ReportShare:
        row = await self.get(listing_id)
        self.gate(row, UPDATE_SHARE_REPORT)
        await rate_limit.enforce(
            self.session,
            rate_limit.SHARE_PER_OWNER,
            str(self.owner_id),
            self.clock(),
            "Too many report shares today; please try again tomorrow.",
        )
        share = ReportShare(listing_id=listing_id, recipient_email=str(body.email), message=body.message)
        self.session.add(share)
        await self.session.commit()
        try:
            await self._fire(
                row, UPDATE_SHARE_REPORT, ShareRequest(share_id=str(share.id)), f"share-{share.id}"
            )
        except Exception:
            await self.session.execute(delete(ReportShare).where(ReportShare.id == share.id))
            await self.session.commit()
            raise
        return share

    async def report_pdf(self, listing_id: uuid.UUID) -> tuple[bytes, Inspection]:
        row = await self.get(listing_id)
        # The full report is the owner's wherever it can be shared: after the survey, until
        # the listing is archived.
        self.gate(row, UPDATE_SHARE_REPORT)
        return await report_pdf(self.session, self.settings, row.inspection.id)
