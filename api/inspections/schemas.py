"""Request and response bodies of the inspection intake (`POST /api/v1/inspections`).

The report's shape is the one documented in docs/listings.md.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, HttpUrl
from pydantic_core import PydanticCustomError

from api.fields import Email, FrenchPhone, PastDate, Text50, Text100, Text200, Vin
from api.listings.schemas import (
    MAX_MESSAGE_LENGTH,
    OptText30,
    PriceCents,
    SingleLine200,
    StrictModel,
    long_text,
)
from carflow.formatting import PARIS

MAX_MILEAGE_KM = 1_000_000

_SIV = re.compile(r"^([A-HJ-NP-TV-Z]{2})[-\s]?([0-9]{3})[-\s]?([A-HJ-NP-TV-Z]{2})$")
# Pre-2009 FNI plates, still on old cars: "1234 AB 75", "123 ABC 2A".
_FNI = re.compile(r"^([0-9]{1,4})\s?([A-Z]{1,3})\s?([0-9]{2}|2A|2B|97[1-6])$")


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


def _inspected_at(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=PARIS)  # the inspector's wall clock is French
    if value > datetime.now(PARIS) + timedelta(minutes=10):
        raise PydanticCustomError("date_in_future", "must not be in the future")
    if value.year < 2000:
        raise PydanticCustomError("date_too_old", "must be after 2000")
    return value


Registration = Annotated[str, BeforeValidator(_registration)]
Grade = Literal["good", "fair", "poor", "not_checked"]


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
