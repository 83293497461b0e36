"""The owner's listings and what an owner does with them, shared by the JSON API and /espace.

Each action checks ownership (another owner's listing is a 404), then the survey gate on the
read model (a fast, clear 409 even while Temporal is down), then goes through the workflow,
which decides for good. The answer is read back from the read model, which the workflow's
records activity wrote before the update returned.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from api.deps import Clock
from api.errors import ApiError
from api.listings.service import NOT_FOUND_EN, Row, report_pdf
from api.listings.workflow import ActionRefused, ListingWorkflows, WorkflowGone
from api.owners.schemas import ListingPatch, ShareBody, SurveyBody
from api.owners.views import read_model_allowed
from api.security import rate_limit
from carflow.settings import Settings
from db.models import Inspection, Listing, Owner, ReportShare
from statemachines.listing import ListingState
from workflows.listing_contract import (
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


async def owner_rows(session: AsyncSession, owner_id: uuid.UUID) -> list[Row]:
    result = await session.execute(
        select(Listing, Inspection)
        .join(Inspection, Inspection.id == Listing.inspection_id)
        .where(Listing.owner_id == owner_id)
        .order_by(Inspection.inspected_at.desc(), Listing.created_at.desc())
    )
    return [Row(listing, inspection) for listing, inspection in result.all()]


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


class OwnerListings:
    def __init__(
        self,
        session: AsyncSession,
        settings: Settings,
        owner: Owner,
        workflows: WorkflowsSource,
        clock: Clock,
    ) -> None:
        self.session = session
        self.settings = settings
        self.owner = owner
        # Temporal is only reached for actions: reads answer even while it is down.
        self._workflows = workflows
        self.clock = clock
        self.owner_id = owner.id

    async def workflows(self) -> ListingWorkflows | None:
        if callable(self._workflows):
            self._workflows = await self._workflows()
        return self._workflows

    async def get(self, listing_id: uuid.UUID, *, full: bool = False) -> Row:
        return await owned_row(self.session, self.owner_id, listing_id, full=full)

    async def reload(self, listing_id: uuid.UUID, *, full: bool = False) -> Row:
        # The records activity wrote the new state through another connection.
        return await owned_row(self.session, self.owner_id, listing_id, full=full, fresh=True)

    def gate(self, row: Row, action: str) -> None:
        """The survey comes before anything else; an archived listing takes no more actions."""
        state = row.listing.state
        allowed = read_model_allowed(state, row.listing.visible_when_sold)
        if state == ListingState.PENDING_SURVEY and action != "complete_survey":
            raise ActionRefused(action, state, allowed)
        if state == ListingState.ARCHIVED:
            raise ActionRefused(action, state, allowed, "the listing is archived since its sale")

    async def _fire(
        self, row: Row, action: str, argument: object, update_id: str | None = None
    ) -> ListingStatus:
        workflows = await self.workflows()
        if workflows is None:
            raise ApiError(
                503, "temporal_unavailable", "Temporal is not reachable; please retry in a moment."
            )
        try:
            return await workflows.fire(row.listing.id, action, argument, update_id=update_id)
        except WorkflowGone:
            # Closed: the listing was archived (the read model may lag by a moment).
            raise ActionRefused(action, ListingState.ARCHIVED, [], "the listing is archived") from None

    async def complete_survey(self, listing_id: uuid.UUID, body: SurveyBody) -> Row:
        row = await self.get(listing_id)
        if row.listing.state != ListingState.PENDING_SURVEY:
            raise ActionRefused(
                "complete_survey",
                row.listing.state,
                read_model_allowed(row.listing.state, row.listing.visible_when_sold),
                "the survey is already completed",
            )
        survey = SurveyAnswers(
            answers=list(body.answers), publish=body.publish, cgu_accepted=body.cgu_accepted
        )
        await self._fire(row, "complete_survey", EventRequest(actor="owner", survey=survey))
        return await self.reload(listing_id)

    async def edit(self, listing_id: uuid.UUID, body: ListingPatch) -> Row:
        row = await self.get(listing_id)
        self.gate(row, UPDATE_EDIT)
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
        self.gate(row, "mark_sold")
        if row.listing.state == ListingState.SOLD:
            return row  # already sold: saying it twice is not an error
        await self._fire(row, "mark_sold", EventRequest(actor="owner"))
        return await self.reload(listing_id)

    async def share(self, listing_id: uuid.UUID, body: ShareBody) -> ReportShare:
        row = await self.get(listing_id)
        self.gate(row, UPDATE_SHARE_REPORT)
        verdict = await rate_limit.hit(
            self.session, rate_limit.SHARE_PER_OWNER, str(self.owner_id), self.clock()
        )
        if not verdict.allowed:
            raise ApiError(
                429,
                "too_many_requests",
                "Too many report shares today; please try again tomorrow.",
                headers={"Retry-After": str(verdict.retry_after_s)},
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
        self.gate(row, "report")
        return await report_pdf(self.session, self.settings, row.inspection.id)
