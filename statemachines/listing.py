"""Listing lifecycle: the legal transitions of an inspected vehicle's listing (DESIGN §4).

Pure rules only, like `statemachines.proposal`: passed through into Temporal's workflow
sandbox, so no I/O, no clocks, and callbacks that only update the model's own fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from statemachine import Event, State, StateMachine
from statemachine.exceptions import TransitionNotAllowed

from statemachines._events import apply_event, enabled_event_names

__all__ = [
    "LISTING_EVENTS",
    "LISTING_FINAL_STATES",
    "LISTING_STATES",
    "ListingEvent",
    "ListingMachine",
    "ListingModel",
    "ListingState",
    "TransitionNotAllowed",
    "accepts_contact",
    "allowed_events",
    "apply_event",
    "enabled_event_names",
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


LISTING_STATES: tuple[str, ...] = tuple(s.value for s in ListingState)
LISTING_EVENTS: tuple[str, ...] = tuple(e.value for e in ListingEvent)
LISTING_FINAL_STATES: frozenset[str] = frozenset({ListingState.ARCHIVED})

# States from which a sale leaves the listing on show with its "VENDU" badge.
_SHOWN_WHEN_SOLD_FROM: frozenset[str] = frozenset({ListingState.PUBLISHED})


@dataclass
class ListingModel:
    """What a listing's lifecycle needs to be rebuilt at any point.

    `visible_when_sold` records whether the listing was public at the moment of the sale:
    a listing sold while private (or expired) never becomes visible again. It is kept once
    archived, as a fact about the sale.
    """

    state: str = ListingState.PENDING_SURVEY.value
    visible_when_sold: bool = False

    def __post_init__(self) -> None:
        # The library accepts any value in `state` silently and only fails later.
        if self.state not in LISTING_STATES:
            raise ValueError(f"unknown listing state {self.state!r}")
        if self.visible_when_sold and self.state not in (ListingState.SOLD, ListingState.ARCHIVED):
            raise ValueError(f"visible_when_sold is only meaningful once sold, not in {self.state!r}")


class ListingMachine(StateMachine):
    """Legal transitions of a listing; build with `ListingMachine(model=ListingModel(...))`.

    `complete_survey` takes the owner's choice as an event argument:
    `machine.send("complete_survey", publish=True)`.
    """

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
    publication_ends = Event(published.to(expired), name="publication_ends")
    mark_sold = Event(private.to(sold) | published.to(sold) | expired.to(sold), name="mark_sold")
    sold_period_ends = Event(sold.to(archived), name="sold_period_ends")

    # Guard: read-only. Publishing is opt-in, so an owner whose answer is missing stays
    # private rather than being exposed to the public by default.
    def publication_chosen(self, publish: bool = False) -> bool:
        return publish is True

    # Callback: model bookkeeping only; the workflow's activities do the side effects.
    def on_enter_sold(self, source: State) -> None:
        self.model.visible_when_sold = source.id in _SHOWN_WHEN_SOLD_FROM


def restore_listing(
    state: str = ListingState.PENDING_SURVEY.value, visible_when_sold: bool = False
) -> ListingMachine:
    """A machine standing in `state`, without firing any entry callback."""
    return ListingMachine(model=ListingModel(state=state, visible_when_sold=visible_when_sold))


def allowed_events(state: str, visible_when_sold: bool = False) -> list[str]:
    """Events legal in `state`, sorted. (`complete_survey` is legal whatever the choice.)"""
    return enabled_event_names(restore_listing(state, visible_when_sold))


def is_publicly_visible(state: str, visible_when_sold: bool = False) -> bool:
    """Whether the public may see the listing (search and detail page)."""
    if state == ListingState.PUBLISHED:
        return True
    return state == ListingState.SOLD and visible_when_sold


def accepts_contact(state: str) -> bool:
    """Whether the public contact form is offered: only on published, unsold listings."""
    return state == ListingState.PUBLISHED
