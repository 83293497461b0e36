"""Bodies of the public listing API, and the field types the whole listing side shares.

The intake's bodies are in api/inspections/schemas.py, the owner space's in
api/owners/schemas.py; both build on `StrictModel` and the types here.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from api.fields import Email, FrenchPhone, Text100
from api.paging import PageFields
from workflows.listing_contract import MAX_LOCATION_LENGTH, MAX_PRICE_CENTS

MAX_MESSAGE_LENGTH = 2000
MIN_CONTACT_MESSAGE_LENGTH = 10

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tabs and newlines allowed in long text
_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _single_line(value: str) -> str:
    if _LINE_CONTROL.search(value):
        raise PydanticCustomError("control_character", "must not contain control characters")
    return value


def _multi_line(value: str) -> str:
    if _CONTROL.search(value):
        raise PydanticCustomError("control_character", "must not contain control characters")
    return value.replace("\r\n", "\n")


SingleLine200 = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAX_LOCATION_LENGTH),
    AfterValidator(_single_line),
]
OptText30 = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30), AfterValidator(_single_line)
]
PriceCents = Annotated[int, Field(strict=True, ge=0, le=MAX_PRICE_CENTS)]


def long_text(max_length: int, min_length: int = 1) -> Any:
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(_multi_line),
    ]


class StrictModel(BaseModel):
    # Unknown fields are refused: a misspelt optional field must not be dropped silently.
    model_config = ConfigDict(extra="forbid")


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


class PublicListingPage(PageFields):
    items: list[PublicListingOut]


class ContactBody(StrictModel):
    name: Text100
    email: Email
    phone: FrenchPhone | None = None
    message: long_text(MAX_MESSAGE_LENGTH, MIN_CONTACT_MESSAGE_LENGTH)  # type: ignore[valid-type]
    # Honeypot: hidden from people, filled in by bots. Anything here drops the message.
    website: Annotated[str, StringConstraints(max_length=200)] = ""


class ContactOut(BaseModel):
    status: Literal["sent"]
