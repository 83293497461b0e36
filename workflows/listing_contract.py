"""The listing workflow's contract, shared by the API and the worker (DESIGN §4).

Update names are the machine's event names (`complete_survey`, `publish`, `unpublish`,
`mark_sold`) plus the machine's three internal transitions, owner/public actions that do
not change state but must obey the lifecycle: `edit` (price, negotiable, location, and
publish/unpublish in one go), `share_report` and `contact_owner`. A refused update fails
with an ApplicationError of type `TransitionNotAllowed` whose first detail is
`{"state", "allowed_events", "reason", "event", "code"}` (code `survey_required` before the survey);
bad input that slipped past the API fails with type `InvalidListingInput`.

Inputs are plain dataclasses and carry no personal data: the owner's and the prospective
buyer's names, addresses and messages stay in the database; history holds their ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from temporalio.common import SearchAttributePair, TypedSearchAttributes

from statemachines.listing import ListingEvent, ListingFacts, ListingMachine, ListingState
from workflows.contract import (
    INVALID_INPUT_ERROR_TYPE,
    QUERY_STATUS,
    REFUSED_ERROR_TYPE,
    SIGNAL_RETRY_EMAILS,
    LifecycleKind,
    LifecycleProjection,
    LifecycleStatus,
)
from workflows.search_attributes import EMAIL_FAILED, LISTING_STATE

__all__ = ["INVALID_INPUT_ERROR_TYPE", "QUERY_STATUS", "REFUSED_ERROR_TYPE", "SIGNAL_RETRY_EMAILS"]

WORKFLOW_TYPE = "ListingWorkflow"

UPDATE_EDIT = ListingEvent.EDIT.value
UPDATE_SHARE_REPORT = ListingEvent.SHARE_REPORT.value
UPDATE_CONTACT_OWNER = ListingEvent.CONTACT_OWNER.value

# The satisfaction survey (DESIGN §4): 4 questions, 5 levels each, worst first.
SURVEY_LEVELS: tuple[str, ...] = ("poor", "insufficient", "satisfactory", "very_good", "excellent")
SURVEY_QUESTIONS = 4
# Bounds the API enforces (422), checked again by the workflow's validators.
MAX_PRICE_CENTS = 10_000_000_00  # 10 million euros
MAX_LOCATION_LENGTH = 200


@dataclass
class ListingStart:
    listing_id: str
    owner_id: str
    inspection_id: str
    summary: str  # vehicle and inspection reference, shown in the Temporal UI
    price_cents: int = 0
    negotiable: bool = False
    location: str = ""
    # Whether this intake created the owner's account (credentials mail) or reused it.
    new_owner: bool = True

    def search_attributes(self) -> TypedSearchAttributes:
        return TypedSearchAttributes(
            [
                SearchAttributePair(LISTING_STATE, ListingState.PENDING_SURVEY.value),
                SearchAttributePair(EMAIL_FAILED, False),
            ]
        )


@dataclass
class SurveyAnswers:
    answers: list[str]  # SURVEY_LEVELS values, one per question
    publish: bool
    cgu_accepted: bool


@dataclass
class EventRequest:
    actor: str = "owner"  # owner | staff
    survey: SurveyAnswers | None = None  # complete_survey only


@dataclass
class ListingEdit:
    """What the owner's edit form changes; None leaves a field as it is."""

    published: bool | None = None
    price_cents: int | None = None
    negotiable: bool | None = None
    location: str | None = None


@dataclass
class ShareRequest:
    share_id: str  # a ReportShare row: recipient and message live in the database


@dataclass
class ContactRequest:
    message_id: str  # a ContactMessage row


@dataclass
class ListingStatus(ListingFacts, LifecycleStatus):
    listing_id: str
    publicly_visible: bool = False
    accepts_contact: bool = False
    survey_completed_at: datetime | None = None


LISTING = LifecycleKind(
    name="listing",
    workflow_type=WORKFLOW_TYPE,
    machine=ListingMachine,
    state_attribute=LISTING_STATE,
    status_type=ListingStatus,
)
listing_workflow_id = LISTING.workflow_id
listing_id_from_workflow_id = LISTING.target_id


# --- Activities the workflow calls -------------------------------------------------------

ACTIVITY_PROJECT = "project_listing"
ACTIVITY_REPORT = "render_inspection_report"
ACTIVITY_OWNER_WELCOME = "send_owner_welcome"
ACTIVITY_EMAIL = "send_listing_email"


@dataclass
class SurveyRecord:
    answers: list[str]
    publish: bool
    completed_at: datetime


@dataclass
class ListingProjection(ListingFacts, LifecycleProjection):
    """The workflow's state as the read model stores it: the lifecycle's and the listing's facts."""

    listing_id: str
    publicly_visible: bool
    survey: SurveyRecord | None = None


@dataclass
class ListingTask:
    """One queued side effect: the report PDF, the owner's welcome, or an email."""

    listing_id: str
    kind: str  # report_pdf | owner_welcome | contact_message | report_shared | listing_expired
    idempotency_key: str
    ref_id: str | None = None  # ContactMessage / ReportShare id


@dataclass
class OwnerWelcome:
    listing_id: str
    new_owner: bool
    idempotency_key: str
