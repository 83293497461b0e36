"""Request and response bodies of the owner's JSON API (`/api/v1/owner`), also used by /espace."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from api.fields import Email
from api.listings.schemas import (
    MAX_MESSAGE_LENGTH,
    PriceCents,
    SingleLine200,
    StrictModel,
    VehicleOut,
    long_text,
)
from api.paging import PageFields
from workflows.listing_contract import SURVEY_LEVELS, SURVEY_QUESTIONS


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


# The survey's levels as the page shows them; the API accepts these labels too.
SURVEY_LABELS: dict[str, str] = {
    "poor": "Mauvais",
    "insufficient": "Insuffisant",
    "satisfactory": "Satisfaisant",
    "very_good": "Très bien",
    "excellent": "Excellent",
}
_LEVEL_ALIASES = {_fold(label): code for code, label in SURVEY_LABELS.items()} | {
    code: code for code in SURVEY_LEVELS
}
_LEVEL_ALIASES |= {_fold(code.replace("_", " ")): code for code in SURVEY_LEVELS}


def _survey_level(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= len(SURVEY_LEVELS):
        return SURVEY_LEVELS[value - 1]
    if isinstance(value, str):
        code = _LEVEL_ALIASES.get(_fold(value).replace("_", " ")) or _LEVEL_ALIASES.get(_fold(value))
        if code:
            return code
    raise PydanticCustomError(
        "survey_level",
        "unknown survey level; expected one of poor, insufficient, satisfactory, very_good, excellent "
        "(Mauvais, Insuffisant, Satisfaisant, Très bien, Excellent)",
    )


SurveyLevel = Annotated[str, BeforeValidator(_survey_level)]


class LoginBody(StrictModel):
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class OwnerOut(BaseModel):
    id: uuid.UUID
    email: str
    first_name: str
    last_name: str


class LoginOut(BaseModel):
    owner: OwnerOut
    # For clients that prefer a header to a JSON body on every change (X-CSRF-Token).
    csrf_token: str


class SurveyBody(StrictModel):
    answers: list[SurveyLevel] = Field(min_length=SURVEY_QUESTIONS, max_length=SURVEY_QUESTIONS)
    publish: bool
    cgu_accepted: bool

    @field_validator("cgu_accepted")
    @classmethod
    def _accepted(cls, value: bool) -> bool:
        if value is not True:
            raise PydanticCustomError("cgu_required", "the terms of use (CGU) must be accepted")
        return value


class ListingPatch(StrictModel):
    published: bool | None = None
    price_cents: PriceCents | None = None
    negotiable: bool | None = None
    location: SingleLine200 | None = None


class ShareBody(StrictModel):
    email: Email
    message: long_text(MAX_MESSAGE_LENGTH)  # type: ignore[valid-type]


class Warning_(BaseModel):
    field: str
    code: str
    message: str


class InspectionSummaryOut(BaseModel):
    id: uuid.UUID
    reference: str
    inspected_at: datetime
    place: str | None


class OwnerListingOut(BaseModel):
    id: uuid.UUID
    state: str
    allowed_events: list[str]
    survey_completed: bool
    vehicle: VehicleOut
    inspection: InspectionSummaryOut
    price_cents: int
    negotiable: bool
    location: str
    publicly_visible: bool
    sold: bool
    published_at: datetime | None
    publication_ends_at: datetime | None
    sold_at: datetime | None
    sold_period_ends_at: datetime | None
    # Available once the survey is done (the gate comes before anything else).
    report_url: str | None
    report_pdf_url: str | None
    public_url: str | None
    warnings: list[Warning_] = Field(default_factory=list)


class OwnerListingPage(PageFields):
    items: list[OwnerListingOut]


class ShareOut(BaseModel):
    id: uuid.UUID
    status: Literal["queued"]
