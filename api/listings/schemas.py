"""Request and response bodies of the listing API: intake, owner space, public listings."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

from api.schemas.fields import Email, FrenchPhone, PastDate, Text50, Text100, Text200, Vin
from carflow.formatting import PARIS
from workflows.listing_contract import MAX_LOCATION_LENGTH, MAX_PRICE_CENTS, SURVEY_LEVELS, SURVEY_QUESTIONS

MAX_MILEAGE_KM = 1_000_000
MAX_MESSAGE_LENGTH = 2000
MIN_CONTACT_MESSAGE_LENGTH = 10

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tabs and newlines allowed in long text
_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SIV = re.compile(r"^([A-HJ-NP-TV-Z]{2})[-\s]?([0-9]{3})[-\s]?([A-HJ-NP-TV-Z]{2})$")
# Pre-2009 FNI plates, still on old cars: "1234 AB 75", "123 ABC 2A".
_FNI = re.compile(r"^([0-9]{1,4})\s?([A-Z]{1,3})\s?([0-9]{2}|2A|2B|97[1-6])$")


def _single_line(value: str) -> str:
    if _LINE_CONTROL.search(value):
        raise PydanticCustomError("control_characters", "must not contain control characters")
    return value


def _multi_line(value: str) -> str:
    if _CONTROL.search(value):
        raise PydanticCustomError("control_characters", "must not contain control characters")
    return value.replace("\r\n", "\n")


def _registration(value: object) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("registration_type", "must be a string")
    plate = value.strip().upper()
    siv = _SIV.fullmatch(plate)
    if siv and siv.group(2) != "000":
        return "-".join(siv.groups())
    fni = _FNI.fullmatch(plate)
    if fni:
        return " ".join(fni.groups())
    raise PydanticCustomError(
        "registration_format", "must be a French registration, like AB-123-CD (or 1234 AB 75 before 2009)"
    )


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


def _inspected_at(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=PARIS)  # the inspector's wall clock is French
    if value > datetime.now(PARIS) + timedelta(minutes=10):
        raise PydanticCustomError("date_in_future", "must not be in the future")
    if value.year < 2000:
        raise PydanticCustomError("date_too_old", "must be after 2000")
    return value


SingleLine200 = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAX_LOCATION_LENGTH),
    AfterValidator(_single_line),
]
OptText30 = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30), AfterValidator(_single_line)
]
Registration = Annotated[str, BeforeValidator(_registration)]
SurveyLevel = Annotated[str, BeforeValidator(_survey_level)]
PriceCents = Annotated[int, Field(strict=True, ge=0, le=MAX_PRICE_CENTS)]
Grade = Literal["good", "fair", "poor", "not_checked"]


def long_text(max_length: int, min_length: int = 1) -> Any:
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(_multi_line),
    ]


class StrictModel(BaseModel):
    # Unknown fields are refused: a misspelt optional field must not be dropped silently.
    model_config = ConfigDict(extra="forbid")


# --- intake ---------------------------------------------------------------------------------


class OwnerIn(StrictModel):
    email: Email
    first_name: Text100
    last_name: Text100
    phone: FrenchPhone | None = None


class VehicleIn(StrictModel):
    make: Text50
    model: Text50
    version: Text100 | None = None
    registration: Registration
    vin: Vin | None = None
    first_registration: PastDate
    mileage_km: Annotated[int, Field(strict=True, ge=0, le=MAX_MILEAGE_KM)]
    fuel: OptText30 | None = None
    gearbox: OptText30 | None = None
    color: Text50 | None = None


class CheckpointIn(StrictModel):
    section: Text100 | None = None
    label: Text200
    grade: Grade
    comment: long_text(MAX_MESSAGE_LENGTH, 0) | None = None  # type: ignore[valid-type]


class PhotoIn(StrictModel):
    url: Annotated[HttpUrl, Field(max_length=2000)]
    caption: Text200 | None = None


class ReportIn(StrictModel):
    inspected_at: Annotated[datetime, AfterValidator(_inspected_at)]
    place: Text200 | None = None
    inspector_name: Text200 | None = None  # default: the inspector account's name
    summary: long_text(5000)  # type: ignore[valid-type]
    checkpoints: list[CheckpointIn] = Field(min_length=1, max_length=200)
    photos: list[PhotoIn] = Field(default_factory=list, max_length=50)


class ListingIn(StrictModel):
    price_cents: PriceCents = 0
    negotiable: bool = False
    location: SingleLine200 = ""


class InspectionCreate(StrictModel):
    owner: OwnerIn
    vehicle: VehicleIn
    report: ReportIn
    listing: ListingIn = Field(default_factory=ListingIn)


class InspectionCreated(BaseModel):
    inspection_id: uuid.UUID
    listing_id: uuid.UUID
    owner_id: uuid.UUID
    owner_created: bool
    reference: str
    state: str
    report_url: str


# --- owner space ------------------------------------------------------------------------------


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


class VehicleOut(BaseModel):
    make: str
    model: str
    version: str | None
    registration: str
    first_registration: date
    mileage_km: int
    fuel: str | None
    gearbox: str | None
    color: str | None


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


class OwnerListingPage(BaseModel):
    items: list[OwnerListingOut]
    total: int
    page: int
    page_size: int


class ShareOut(BaseModel):
    id: uuid.UUID
    status: Literal["queued"]


# --- public -----------------------------------------------------------------------------------


class CheckpointOut(BaseModel):
    section: str | None
    label: str
    grade: str
    grade_label: str
    comment: str | None


class PhotoOut(BaseModel):
    url: str
    caption: str | None


class PublicListingOut(BaseModel):
    id: uuid.UUID
    vehicle: VehicleOut
    price_cents: int
    negotiable: bool
    location: str
    sold: bool
    accepts_contact: bool
    published_at: datetime | None
    inspected_at: datetime


class PublicListingDetail(PublicListingOut):
    inspection_reference: str
    summary: str
    checkpoints: list[CheckpointOut]
    photos: list[PhotoOut]


class PublicListingPage(BaseModel):
    items: list[PublicListingOut]
    total: int
    page: int
    page_size: int


class ContactBody(StrictModel):
    name: Text100
    email: Email
    phone: FrenchPhone | None = None
    message: long_text(MAX_MESSAGE_LENGTH, MIN_CONTACT_MESSAGE_LENGTH)  # type: ignore[valid-type]
    # Honeypot: hidden from people, filled in by bots. Anything here drops the message.
    website: Annotated[str, StringConstraints(max_length=200)] = ""


class ContactOut(BaseModel):
    status: Literal["sent"]
