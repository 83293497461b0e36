"""Listing lifecycle: the legal transitions of an inspected vehicle's listing (DESIGN §4).

Pure rules only, like `statemachines.proposal`: passed through into Temporal's workflow
sandbox, so no I/O, no clocks, and callbacks that only update the model's own fields.

Besides its transitions, the owner's everyday actions obey the lifecycle without changing
state, as internal transitions: `edit` (price, negotiable, location; its "published" box
may also publish or unpublish), `share_report`, and the public's `contact_owner`. Nothing
but the survey is possible before the survey is done.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from statemachine import Event, State
from statemachine.exceptions import TransitionNotAllowed

from statemachines.deadlines import listing_publication_ends_at, listing_sold_period_ends_at
from statemachines.lifecycle import Actor, LifecycleMachine, Refusal, apply_event

__all__ = [
    "LISTING_EVENTS",
    "LISTING_FINAL_STATES",
    "LISTING_STATES",
    "SURVEY_FIRST",
    "SURVEY_REQUIRED",
    "Actor",
    "ListingEvent",
    "ListingFacts",
    "ListingMachine",
    "ListingModel",
    "ListingState",
    "Refusal",
    "TransitionNotAllowed",
    "accepts_contact",
    "allowed_events",
    "apply_event",
    "is_publicly_visible",
    "restore_listing",
]


class ListingState(StrEnum):
    PENDING_SURVEY = "pending_survey"
    PRIVATE = "private"
    PUBLISHED = "published"
    EXPIRED = "expired"
    SOLD = "sold"
    ARCHIVED = "archived"


class ListingEvent(StrEnum):
    COMPLETE_SURVEY = "complete_survey"
    PUBLISH = "publish"
    UNPUBLISH = "unpublish"
    PUBLICATION_ENDS = "publication_ends"
    MARK_SOLD = "mark_sold"
    SOLD_PERIOD_ENDS = "sold_period_ends"
    # Actions that obey the lifecycle without changing state (internal transitions).
    EDIT = "edit"
    SHARE_REPORT = "share_report"
    CONTACT_OWNER = "contact_owner"


LISTING_STATES: tuple[str, ...] = tuple(s.value for s in ListingState)
LISTING_EVENTS: tuple[str, ...] = tuple(e.value for e in ListingEvent)
LISTING_FINAL_STATES: frozenset[str] = frozenset({ListingState.ARCHIVED})

# The refusal code and reason of anything tried before the survey.
SURVEY_REQUIRED = "survey_required"
SURVEY_FIRST = "complete the satisfaction survey first"

_OWNER = frozenset({Actor.OWNER})
LISTING_ACTORS: dict[str, frozenset[Actor]] = {
    ListingEvent.COMPLETE_SURVEY: _OWNER,
    ListingEvent.PUBLISH: _OWNER,
    ListingEvent.UNPUBLISH: _OWNER,
    ListingEvent.MARK_SOLD: _OWNER,
    ListingEvent.EDIT: _OWNER,
    ListingEvent.SHARE_REPORT: _OWNER,
    ListingEvent.CONTACT_OWNER: frozenset({Actor.PUBLIC}),
    ListingEvent.PUBLICATION_ENDS: frozenset({Actor.TIMER}),
    ListingEvent.SOLD_PERIOD_ENDS: frozenset({Actor.TIMER}),
}

# States from which a sale leaves the listing on show with its "VENDU" badge.
_SHOWN_WHEN_SOLD_FROM: frozenset[str] = frozenset({ListingState.PUBLISHED})


@dataclass(kw_only=True)
class ListingFacts:
    """A listing's price and place, and when it was published and sold.

    The machine keeps these facts; the read model and the status show them as they are
    (`fields_of(model, ListingFacts)`), so the workflow and the database agree on them by
    construction.
    """

    visible_when_sold: bool = False
    price_cents: int = 0
    negotiable: bool = False
    location: str = ""
    published_at: datetime | None = None
    publication_ends_at: datetime | None = None
    sold_at: datetime | None = None
    sold_period_ends_at: datetime | None = None


@dataclass
class ListingModel(ListingFacts):
    """What a listing's lifecycle needs to be rebuilt at any point, and its facts.

    `visible_when_sold` records whether the listing was public at the moment of the sale:
    a listing sold while private (or expired) never becomes visible again. It is kept once
    archived, as a fact about the sale.
    """

    state: str = ListingState.PENDING_SURVEY.value
    publications: int = 0

    def __post_init__(self) -> None:
        # The library accepts any value in `state` silently and only fails later.
        if self.state not in LISTING_STATES:
            raise ValueError(f"unknown listing state {self.state!r}")
        if self.visible_when_sold and self.state not in (ListingState.SOLD, ListingState.ARCHIVED):
            raise ValueError(f"visible_when_sold is only meaningful once sold, not in {self.state!r}")


class ListingMachine(LifecycleMachine):
    """Legal transitions of a listing; build with `ListingMachine(model=ListingModel(...))`.

    Every event takes `now` (keyword). `complete_survey` takes the owner's choice:
    `machine.fire("complete_survey", now=now, publish=True)`; `edit` the changed fields.
    """

    noun = "listing"
    actors = LISTING_ACTORS
    timers = {
        ListingEvent.PUBLICATION_ENDS: "publication_ends_at",
        ListingEvent.SOLD_PERIOD_ENDS: "sold_period_ends_at",
    }
    verbs = {
        ListingEvent.SHARE_REPORT: "share the report of",
        ListingEvent.CONTACT_OWNER: "contact the owner of",
    }

    pending_survey = State(initial=True)
    private = State()
    published = State()
    expired = State()
    sold = State()
    archived = State(final=True)

    # Event names are spelled out so diagrams and refusal messages use the identifiers the
    # API and workflows use, not humanised labels.
    complete_survey = Event(
        pending_survey.to(published, cond="publication_chosen")
        | pending_survey.to(private, unless="publication_chosen"),
        name="complete_survey",
    )
    # From `expired` this starts a fresh 3-month period: the workflow restarts its timer.
    publish = Event(private.to(published) | expired.to(published), name="publish")
    unpublish = Event(published.to(private), name="unpublish")
    publication_ends = Event(published.to(expired, cond="publication_over"), name="publication_ends")
    mark_sold = Event(private.to(sold) | published.to(sold) | expired.to(sold), name="mark_sold")
    sold_period_ends = Event(sold.to(archived, cond="sold_period_over"), name="sold_period_ends")

    edit = Event(
        private.to.itself(internal=True)
        | published.to.itself(internal=True)
        | expired.to.itself(internal=True),
        name="edit",
    )
    # The report stays shareable once sold, until the listing is archived.
    share_report = Event(
        private.to.itself(internal=True)
        | published.to.itself(internal=True)
        | expired.to.itself(internal=True)
        | sold.to.itself(internal=True),
        name="share_report",
    )
    # Only a published, unsold listing takes messages from the public.
    contact_owner = Event(published.to.itself(internal=True), name="contact_owner")

    # --- rules beyond the transitions ---------------------------------------------------------

    def publication_event(self, published: bool | None) -> str | None:
        """The transition an edit's "published" box asks for, or None when nothing changes."""
        if published is None:
            return None
        if published and not self.published.is_active:
            return ListingEvent.PUBLISH
        if not published and self.published.is_active:
            return ListingEvent.UNPUBLISH
        return None

    def edit_events(self, published: bool | None) -> list[str]:
        """What an edit fires: `edit`, then the publication change it asks for, if any."""
        change = self.publication_event(published)
        return [ListingEvent.EDIT] if change is None else [ListingEvent.EDIT, change]

    def edit_refusal(self, *, now: datetime, published: bool | None) -> Refusal | None:
        for event in self.edit_events(published):
            refusal = self.refusal(event, now=now, actor=Actor.OWNER)
            if refusal is not None:
                return refusal
        return None

    def is_publicly_visible(self) -> bool:
        """Whether the public may see the listing (search and detail page)."""
        return bool(self.published.is_active or (self.sold.is_active and self.model.visible_when_sold))

    def accepts_contact(self) -> bool:
        """Whether the public contact form is offered: only on published, unsold listings."""
        return ListingEvent.CONTACT_OWNER in {str(e.id) for e in self.allowed_events}

    def surveyed(self) -> bool:
        return not self.pending_survey.is_active

    def is_sold(self) -> bool:
        """Sold and in its last month: marking it sold again changes nothing."""
        return bool(self.sold.is_active)

    # --- refusals ---------------------------------------------------------------------------------

    def _gate(self, event: str) -> Refusal | None:
        if self.pending_survey.is_active and event != ListingEvent.COMPLETE_SURVEY:
            return Refusal(event, self.state, SURVEY_REQUIRED, SURVEY_FIRST)
        return None

    def _not_in_state(self, event: str) -> str:
        if event == ListingEvent.CONTACT_OWNER:
            return f"a listing in state {self.state} takes no messages"
        if self.archived.is_active:
            return "the listing is archived since its sale"
        if event == ListingEvent.COMPLETE_SURVEY:
            return "the survey is already completed"
        return f"cannot {self._verb(event)} a listing in state {self.state}"

    # --- guards: read-only. Publishing is opt-in, so an owner whose answer is missing stays
    # private rather than being exposed to the public by default.

    def publication_chosen(self, publish: bool = False) -> bool:
        return publish is True

    def publication_over(self, now: datetime) -> bool:
        ends = self.model.publication_ends_at
        return ends is not None and now >= ends

    def sold_period_over(self, now: datetime) -> bool:
        ends = self.model.sold_period_ends_at
        return ends is not None and now >= ends

    # --- callbacks: the model's facts only; the workflow's activities do the side effects --

    def on_edit(
        self, price_cents: int | None = None, negotiable: bool | None = None, location: str | None = None
    ) -> None:
        model = self.model
        if price_cents is not None:
            model.price_cents = price_cents
        if negotiable is not None:
            model.negotiable = negotiable
        if location is not None:
            model.location = location

    def on_enter_published(self, now: datetime) -> None:
        # Every publication starts a fresh 3-month period, from now (not from intake).
        self.model.publications += 1
        self.model.published_at = now
        self.model.publication_ends_at = listing_publication_ends_at(now)

    def on_unpublish(self) -> None:
        self.model.publication_ends_at = None

    def on_enter_sold(self, source: State, now: datetime) -> None:
        self.model.visible_when_sold = source.id in _SHOWN_WHEN_SOLD_FROM
        self.model.sold_at = now
        self.model.sold_period_ends_at = listing_sold_period_ends_at(now)
        self.model.publication_ends_at = None


def restore_listing(
    state: str = ListingState.PENDING_SURVEY.value,
    visible_when_sold: bool = False,
    *,
    publication_ends_at: datetime | None = None,
    sold_period_ends_at: datetime | None = None,
) -> ListingMachine:
    """A machine standing in `state`, without firing any entry callback."""
    return ListingMachine(
        model=ListingModel(
            state=state,
            visible_when_sold=visible_when_sold,
            publication_ends_at=publication_ends_at,
            sold_period_ends_at=sold_period_ends_at,
        )
    )


def allowed_events(state: str, visible_when_sold: bool = False) -> list[str]:
    """The lifecycle events `state` can lead to, timers included, sorted: the design's table.

    (`complete_survey` whatever the choice; the internal actions are not listed here:
    `ListingMachine.allowed` lists everything an actor may do now.)
    """
    machine = restore_listing(state, visible_when_sold)
    internal = {ListingEvent.EDIT, ListingEvent.SHARE_REPORT, ListingEvent.CONTACT_OWNER}
    return sorted(str(e.id) for e in machine.allowed_events if e.id not in internal)


def is_publicly_visible(state: str, visible_when_sold: bool = False) -> bool:
    """Whether the public may see a listing in `state` (search and detail page)."""
    return restore_listing(state, visible_when_sold).is_publicly_visible()


def accepts_contact(state: str) -> bool:
    """Whether the public contact form is offered in `state`."""
    return restore_listing(state).accepts_contact()


@dataclass(frozen=True)
class PublicFlags:
    """What the public pages show of a listing's lifecycle: sold, and whether it takes messages."""

    sold: bool
    accepts_contact: bool


@functools.cache
def public_flags(state: str, visible_when_sold: bool = False) -> PublicFlags:
    """The machine's answers for a listing in `state`, computed once per process.

    Neither depends on a listing's dates, only on where it stands; building a machine per
    row of a search page cost most of its CPU (12.7 ms of a 20-row page, 3.4 ms without).
    """
    machine = restore_listing(state, visible_when_sold)
    return PublicFlags(sold=machine.is_sold(), accepts_contact=machine.accepts_contact())
