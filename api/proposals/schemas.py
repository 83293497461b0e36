"""Request and response bodies of the dealer's proposal API (DESIGN §5)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator
from pydantic_core import PydanticCustomError

from api.fields import (
    Email,
    FrenchMobile,
    FrenchPhone,
    PastDate,
    PostalCode,
    Registration,
    Text50,
    Text80,
    Text100,
    Text200,
    Vin,
)
from api.paging import PageFields

ProductKind = Literal["service", "insurance"]
# Strict: "12" or 12.0 or true are not prices; a client sending them has a bug to hear about.
PriceCents = Annotated[int, Field(strict=True, ge=0, le=100_000_000)]
DurationMonths = Annotated[int, Field(strict=True, ge=1, le=120)]
MileageKm = Annotated[int, Field(strict=True, ge=0, le=2_000_000)]


class StrictModel(BaseModel):
    # Unknown fields are refused: a misspelt optional field must not be dropped silently.
    model_config = ConfigDict(extra="forbid")


# --- create -------------------------------------------------------------------------------


class ProductIn(StrictModel):
    code: Text50
    label: Text200
    kind: ProductKind
    price_cents: PriceCents
    duration_months: DurationMonths


class AddressIn(StrictModel):
    line1: Text200
    postal_code: PostalCode
    city: Text100


class BuyerIn(StrictModel):
    first_name: Text100
    last_name: Text100
    email: Email
    mobile: FrenchMobile
    address: AddressIn


class VehicleIn(StrictModel):
    vin: Vin
    registration: Registration
    make: Text50
    model: Text80
    first_registration: PastDate
    mileage_km: MileageKm


class SellerIn(StrictModel):
    name: Text200
    email: Email
    phone: FrenchPhone | None = None


class ProposalCreate(StrictModel):
    product: ProductIn
    buyer: BuyerIn
    vehicle: VehicleIn
    seller: SellerIn
    send: StrictBool = Field(False, description="Email the proposal to the buyer at once.")


# --- patch --------------------------------------------------------------------------------

# The fields a dealer may correct on an existing proposal (seed FAQ: the buyer's email and
# mobile, and the seller's details). Anything else needs a new proposal.
EDITABLE_FIELDS: frozenset[str] = frozenset(
    {"buyer.email", "buyer.mobile", "seller.name", "seller.email", "seller.phone"}
)


def _not_null(value: object) -> object:
    # Absent means "unchanged"; an explicit null would erase a required value.
    if value is None:
        raise PydanticCustomError("not_null", "may not be null")
    return value


class BuyerPatch(StrictModel):
    email: Email | None = None
    mobile: FrenchMobile | None = None

    check_present = field_validator("email", "mobile")(_not_null)


class SellerPatch(StrictModel):
    name: Text200 | None = None
    email: Email | None = None
    phone: FrenchPhone | None = None  # null removes the seller's phone: it is optional

    check_present = field_validator("name", "email")(_not_null)


class ProposalPatch(StrictModel):
    buyer: BuyerPatch | None = None
    seller: SellerPatch | None = None

    check_present = field_validator("buyer", "seller")(_not_null)


# --- responses ----------------------------------------------------------------------------


class ProductOut(BaseModel):
    code: str
    label: str
    kind: str
    price_cents: int
    duration_months: int


class AddressOut(BaseModel):
    line1: str
    postal_code: str
    city: str


class BuyerOut(BaseModel):
    first_name: str
    last_name: str
    email: str
    mobile: str
    address: AddressOut


class VehicleOut(BaseModel):
    vin: str
    registration: str
    make: str
    model: str
    first_registration: date
    mileage_km: int


class SellerOut(BaseModel):
    name: str
    email: str
    phone: str | None


class ProposalOut(BaseModel):
    """A proposal as lists show it: content plus the read model of its lifecycle."""

    id: uuid.UUID
    contract_number: str
    state: str
    expires_at: datetime
    created_at: datetime
    replaces_id: uuid.UUID | None
    product: ProductOut
    buyer: BuyerOut
    vehicle: VehicleOut
    seller: SellerOut
    first_sent_at: datetime | None
    last_sent_at: datetime | None
    sent_count: int
    view_count: int
    first_viewed_at: datetime | None
    last_viewed_at: datetime | None
    signed_at: datetime | None
    withdrawal_deadline: datetime | None
    contract_status: str
    email_failed: bool
    email_error: str | None
    # From the first failed attempt to send the buyer's mail (SMTP down...), while it retries;
    # `email_failed` comes only once the retry budget is spent.
    email_delayed: bool = False
    email_delayed_since: datetime | None = None
    email_delay_reason: str | None = None


class ProposalDetail(ProposalOut):
    """One proposal, with the events the dealer or the buyer may fire now."""

    allowed_events: list[str]
    # "workflow" when the state comes from the workflow itself; "read_model" when the
    # workflow could not be asked and the database's copy (possibly a moment old) was used.
    status_source: Literal["workflow", "read_model"]


class ProposalPage(PageFields):
    items: list[ProposalOut]


class SellerProfile(BaseModel):
    id: uuid.UUID
    name: str
    email: str
    phone: str | None
    created_at: datetime
    last_used_at: datetime


class SellerPage(PageFields):
    items: list[SellerProfile]


# --- face to face -----------------------------------------------------------------------------


class InPersonStart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    iban: str = Field(max_length=64)
    account_holder: str = Field(max_length=200)
    cg_accepted: bool
    # The buyer's "no claim since the proposal was sent", when the integration asks it.
    no_claim_since_sent: bool | None = None


class InPersonConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^\s*\d{6}\s*$", description="the 6 digits the buyer received by SMS")
