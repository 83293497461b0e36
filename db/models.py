"""Tables of the content and read model. Lifecycle state lives in Temporal; see DESIGN.md §2."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    select,
    text,
)
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column, relationship

from db.search_text import compact, joined, national_mobile, normalize

# Explicit constraint names keep migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database.

    PostgreSQL keeps the zone; SQLite stores text and hands back naive values, which would
    then compare unequal to the aware datetimes the workflows compute.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None:
            if value.tzinfo is None:
                raise ValueError(f"naive datetime {value!r}: use an aware UTC datetime")
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class LifecycleReadModel:
    """The read-model columns every lifecycle kind has besides its state (proposals, listings).

    Only the `records` activities write them, from the workflow's projection: a write carries
    the workflow's version and only a newer one lands (`state_version`).
    """

    state_version: Mapped[int] = mapped_column(default=0)
    email_failed: Mapped[bool] = mapped_column(Boolean, default=False)
    email_error: Mapped[str | None] = mapped_column(String(1000))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Role(StrEnum):
    DEALER = "dealer"
    STAFF = "staff"
    INSPECTOR = "inspector"


class Dealer(Base):
    __tablename__ = "dealers"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    # The "vente à distance" option of the seed FAQ: without it, no remote proposal.
    remote_sale_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffMember(Base):
    """After-sales administration (ADV): inspects and retries stuck workflows."""

    __tablename__ = "staff_members"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Inspector(Base):
    """A vehicle inspector whose tool posts inspections (listing intake)."""

    __tablename__ = "inspectors"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccessToken(Base):
    """A bearer token: dealer API key, staff token or inspector token.

    Only the SHA-256 of the token is stored. Tokens carry 256 bits of randomness, so a fast
    hash is enough (no dictionary to attack) and lets us find a token by its hash in one
    indexed lookup; passwords, which are guessable, use argon2 elsewhere.
    """

    __tablename__ = "access_tokens"
    __table_args__ = (
        CheckConstraint(
            "(role = 'dealer' AND dealer_id IS NOT NULL AND staff_id IS NULL AND inspector_id IS NULL)"
            " OR (role = 'staff' AND staff_id IS NOT NULL AND dealer_id IS NULL AND inspector_id IS NULL)"
            " OR (role = 'inspector' AND inspector_id IS NOT NULL AND dealer_id IS NULL"
            " AND staff_id IS NULL)",
            name="one_owner_matching_role",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, so an operator can tell keys apart without seeing them.
    display_prefix: Mapped[str] = mapped_column(String(16))
    dealer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("dealers.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("staff_members.id", ondelete="CASCADE"), index=True
    )
    inspector_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("inspectors.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()

    dealer: Mapped[Dealer | None] = relationship(lazy="raise")
    staff: Mapped[StaffMember | None] = relationship(lazy="raise")
    inspector: Mapped[Inspector | None] = relationship(lazy="raise")


class OutboxEmail(Base):
    """One row per logical email: a retried activity finds it and does not send twice."""

    __tablename__ = "outbox_emails"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    message_id: Mapped[str] = mapped_column(String(200))
    template: Mapped[str] = mapped_column(String(100))
    recipients: Mapped[str] = mapped_column(String(2000))
    subject: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()


class Proposal(LifecycleReadModel, Base):
    """A proposal's content, plus the read model of its workflow (written by `records`)."""

    __tablename__ = "proposals"
    # The dealer's list, newest first, whole or per state (issue 12). Plain ascending
    # columns: a B-tree is read backwards for `ORDER BY created_at DESC, id DESC`, and the
    # keyset's `(created_at, id) < (…)` is a range on it. The dealer's search is a trigram
    # index on `search_text` (PostgreSQL only, migration 0007).
    __table_args__ = (
        Index("ix_proposals_dealer_recent", "dealer_id", "created_at", "id"),
        Index("ix_proposals_dealer_state_recent", "dealer_id", "state", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    dealer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dealers.id"))
    contract_number: Mapped[str] = mapped_column(String(20), unique=True)
    # Set by the email activity at its first failed attempt, cleared when a mail goes out: the
    # dealer sees "delivery delayed" at once, not after the retry budget (`email_failed`).
    email_delayed_since: Mapped[datetime | None] = mapped_column()
    email_delay_reason: Mapped[str | None] = mapped_column(String(1000))
    # SHA-256 of the buyer's link token; the token itself is derived (carflow.links).
    buyer_token_hash: Mapped[str] = mapped_column(String(64), unique=True)

    product_code: Mapped[str] = mapped_column(String(50))
    product_label: Mapped[str] = mapped_column(String(200))
    product_kind: Mapped[str] = mapped_column(String(20))  # service | insurance
    price_cents: Mapped[int] = mapped_column()
    duration_months: Mapped[int] = mapped_column()

    buyer_first_name: Mapped[str] = mapped_column(String(100))
    buyer_last_name: Mapped[str] = mapped_column(String(100))
    buyer_email: Mapped[str] = mapped_column(String(320))
    buyer_mobile: Mapped[str] = mapped_column(String(20))
    buyer_address_line1: Mapped[str] = mapped_column(String(200))
    buyer_postal_code: Mapped[str] = mapped_column(String(10))
    buyer_city: Mapped[str] = mapped_column(String(100))

    vehicle_vin: Mapped[str] = mapped_column(String(17))
    vehicle_registration: Mapped[str] = mapped_column(String(20))
    vehicle_make: Mapped[str] = mapped_column(String(50))
    vehicle_model: Mapped[str] = mapped_column(String(80))
    vehicle_first_registration: Mapped[date] = mapped_column(Date)
    vehicle_mileage_km: Mapped[int] = mapped_column()

    seller_name: Mapped[str] = mapped_column(String(200))
    seller_email: Mapped[str] = mapped_column(String(320))
    seller_phone: Mapped[str | None] = mapped_column(String(20))

    replaces_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("proposals.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Signing: what the buyer gave and the documents of the contract.
    iban_encrypted: Mapped[str | None] = mapped_column(String(500))
    iban_masked: Mapped[str | None] = mapped_column(String(50))
    account_holder: Mapped[str | None] = mapped_column(String(200))
    conditions_accepted_at: Mapped[datetime | None] = mapped_column()
    no_claim_attested_at: Mapped[datetime | None] = mapped_column()
    claim_declared_at: Mapped[datetime | None] = mapped_column()  # declined: a claim since sending
    contract_pdf_sha256: Mapped[str | None] = mapped_column(String(64))  # as reviewed
    contract_reviewed_at: Mapped[datetime | None] = mapped_column()
    signed_pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    conditions_pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    signature_method: Mapped[str | None] = mapped_column(String(20))
    # What the dealer's search matches (db/search_text.py), kept by `_keep_search_text`.
    search_text: Mapped[str] = mapped_column(String(2000), default="")

    # Read model: only the records activity writes below this line (and LifecycleReadModel's).
    state: Mapped[str] = mapped_column(String(20), default="draft")
    expires_at: Mapped[datetime] = mapped_column()
    first_sent_at: Mapped[datetime | None] = mapped_column()
    last_sent_at: Mapped[datetime | None] = mapped_column()
    sent_count: Mapped[int] = mapped_column(default=0)
    view_count: Mapped[int] = mapped_column(default=0)
    first_viewed_at: Mapped[datetime | None] = mapped_column()
    last_viewed_at: Mapped[datetime | None] = mapped_column()
    signed_at: Mapped[datetime | None] = mapped_column()
    withdrawal_deadline: Mapped[datetime | None] = mapped_column()
    contract_status: Mapped[str] = mapped_column(String(20), default="none")
    # When the projection first recorded the withdrawal (the dealer's activity, issue 13).
    withdrawn_at: Mapped[datetime | None] = mapped_column()


def proposal_search_text(row: Proposal) -> str:
    """Buyer, contact, contract, vehicle and seller in one normalized text (both name orders
    are found since each word of the query is matched on its own)."""
    return joined(
        [
            row.buyer_first_name,
            row.buyer_last_name,
            row.buyer_email,
            row.buyer_mobile,
            national_mobile(row.buyer_mobile),
            row.buyer_city,
            row.contract_number,
            row.vehicle_vin,
            row.vehicle_registration,
            compact(row.vehicle_registration),
            row.vehicle_make,
            row.vehicle_model,
            row.seller_name,
            row.seller_email,
        ]
    )


@sa_event.listens_for(Proposal, "before_insert")
@sa_event.listens_for(Proposal, "before_update")
def _keep_search_text(_mapper: Mapper[Proposal], _connection: Connection, row: Proposal) -> None:
    # Every ORM write of a proposal (create, corrections) refreshes it; the records
    # activity's bulk UPDATE writes only lifecycle columns, which the text does not hold.
    row.search_text = proposal_search_text(row)


class SigningCode(Base):
    """A face-to-face signing code sent by SMS: only its salted hash is kept."""

    __tablename__ = "signing_codes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    proposal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("proposals.id"), index=True)
    attempt_key: Mapped[str] = mapped_column(String(200), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column()
    tries: Mapped[int] = mapped_column(default=0)
    sent: Mapped[bool] = mapped_column(Boolean, default=False)


class Seller(Base):
    """A dealer's salesperson, saved at their first remote sale and offered again."""

    __tablename__ = "sellers"
    __table_args__ = (
        UniqueConstraint("dealer_id", "email", name="uq_sellers_dealer_email"),
        Index("ix_sellers_dealer_recent", "dealer_id", "last_used_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    dealer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dealers.id"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdempotencyRecord(Base):
    """`Idempotency-Key` of a dealer's create request: the same key returns the same proposal."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("dealer_id", "key", name="uq_idempotency_records_dealer_key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    dealer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dealers.id"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    proposal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("proposals.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AdvAuditEntry(Base):
    """One ADV action on a workflow (a retry): who, when, what, and how it went."""

    __tablename__ = "adv_audit_entries"
    __table_args__ = (Index("ix_adv_audit_entries_recent", "at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # The name is copied so the entry stays readable if the staff member is deleted.
    staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_members.id", ondelete="SET NULL"))
    staff_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))  # retry
    kind: Mapped[str] = mapped_column(String(20))  # proposal | listing
    target_id: Mapped[str] = mapped_column(String(100))
    workflow_id: Mapped[str] = mapped_column(String(200), index=True)
    result: Mapped[str] = mapped_column(String(20))  # done | not_found | not_running | failed
    detail: Mapped[str] = mapped_column(String(2000), default="")
    via: Mapped[str] = mapped_column(String(10), default="api")  # api | page


# --- Listings (issue 6): owners, inspections and their reports, listings -----------------


class Owner(Base):
    """A vehicle owner: account created (or reused, same email) at inspection intake.

    The password is only ever stored as an argon2 hash; the clear one exists in the
    credentials email alone. Consecutive failed logins lock the account for a while.
    """

    __tablename__ = "owners"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # lower case
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(500))
    credentials_sent_at: Mapped[datetime | None] = mapped_column()
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    # Bumped when the password changes: older session cookies stop working.
    session_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column()


class Inspection(Base):
    """One vehicle inspection ("expertise") and its report, as the inspector posted it."""

    __tablename__ = "inspections"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("owners.id"), index=True)
    inspector_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inspectors.id", ondelete="SET NULL"))
    # SHA-256 of the shareable report token (the token is derived, see carflow.report_links).
    report_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)  # shown on the report

    vehicle_make: Mapped[str] = mapped_column(String(50))
    vehicle_model: Mapped[str] = mapped_column(String(80))
    vehicle_version: Mapped[str | None] = mapped_column(String(100))
    vehicle_registration: Mapped[str] = mapped_column(String(20))
    vehicle_vin: Mapped[str | None] = mapped_column(String(17))
    vehicle_first_registration: Mapped[date] = mapped_column(Date)
    vehicle_mileage_km: Mapped[int] = mapped_column()
    vehicle_fuel: Mapped[str | None] = mapped_column(String(30))
    vehicle_gearbox: Mapped[str | None] = mapped_column(String(30))
    vehicle_color: Mapped[str | None] = mapped_column(String(50))

    inspected_at: Mapped[datetime] = mapped_column()
    inspection_place: Mapped[str | None] = mapped_column(String(200))
    inspector_name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(5000))
    report_pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    checkpoints: Mapped[list[InspectionCheckpoint]] = relationship(
        lazy="raise", order_by="InspectionCheckpoint.position"
    )
    photos: Mapped[list[InspectionPhoto]] = relationship(lazy="raise", order_by="InspectionPhoto.position")


class InspectionCheckpoint(Base):
    """One point checked by the inspector, with its grade and comment."""

    __tablename__ = "inspection_checkpoints"
    __table_args__ = (
        UniqueConstraint("inspection_id", "position", name="uq_inspection_checkpoints_position"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()
    section: Mapped[str | None] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(200))
    grade: Mapped[str] = mapped_column(String(20))  # good | fair | poor | not_checked
    comment: Mapped[str | None] = mapped_column(String(2000))


class InspectionPhoto(Base):
    """A photo of the inspected vehicle, by URL (stored by the inspector's tool)."""

    __tablename__ = "inspection_photos"
    __table_args__ = (UniqueConstraint("inspection_id", "position", name="uq_inspection_photos_position"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()
    url: Mapped[str] = mapped_column(String(2000))
    caption: Mapped[str | None] = mapped_column(String(200))


class Listing(LifecycleReadModel, Base):
    """An inspected vehicle's listing, plus the read model of its workflow.

    Price, negotiability and location are edited through the workflow (the survey gate
    applies to them too), so the `records` activity writes them with the state.
    """

    __tablename__ = "listings"
    __table_args__ = (
        Index("ix_listings_owner_recent", "owner_id", "created_at", "id"),
        # The public search walks only what the public sees, newest first (or by price).
        Index(
            "ix_listings_public_recent",
            "published_at",
            "id",
            postgresql_where=text("publicly_visible"),
            sqlite_where=text("publicly_visible = 1"),
        ),
        Index(
            "ix_listings_public_price",
            "price_cents",
            "id",
            postgresql_where=text("publicly_visible"),
            sqlite_where=text("publicly_visible = 1"),
        ),
        Index(
            "ix_listings_public_mileage",
            "mileage_km",
            "id",
            postgresql_where=text("publicly_visible"),
            sqlite_where=text("publicly_visible = 1"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspections.id"), unique=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("owners.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The inspection's make and model, normalized (db/search_text.py), so the public search
    # filters listings without reading inspections; written once, at intake.
    make_key: Mapped[str] = mapped_column(String(100), default="")
    model_key: Mapped[str] = mapped_column(String(160), default="")
    mileage_km: Mapped[int] = mapped_column(default=0, server_default="0")  # the inspection's, for sorting

    # Read model: only the records activity writes below this line and LifecycleReadModel's
    # (the intake writes the starting point, version 0).
    price_cents: Mapped[int] = mapped_column(default=0)
    negotiable: Mapped[bool] = mapped_column(Boolean, default=False)
    location: Mapped[str] = mapped_column(String(200), default="")
    location_key: Mapped[str] = mapped_column(String(400), default="")  # normalized location
    state: Mapped[str] = mapped_column(String(20), default="pending_survey", index=True)
    visible_when_sold: Mapped[bool] = mapped_column(Boolean, default=False)
    # Whether the public sees it (published, or sold while published): what searches filter on.
    publicly_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime | None] = mapped_column()
    publication_ends_at: Mapped[datetime | None] = mapped_column()
    sold_at: Mapped[datetime | None] = mapped_column()
    sold_period_ends_at: Mapped[datetime | None] = mapped_column()
    survey_completed_at: Mapped[datetime | None] = mapped_column()


@sa_event.listens_for(Listing, "before_insert")
def _listing_vehicle_keys(_mapper: Mapper[Listing], connection: Connection, row: Listing) -> None:
    # Intake (and any ORM insert) copies the inspection's make and model, normalized: the
    # public search then filters listings alone. One primary-key read, once per listing.
    vehicle = connection.execute(
        select(Inspection.vehicle_make, Inspection.vehicle_model, Inspection.vehicle_mileage_km).where(
            Inspection.id == row.inspection_id
        )
    ).first()
    if vehicle is not None:
        row.make_key, row.model_key = normalize(vehicle.vehicle_make), normalize(vehicle.vehicle_model)
        row.mileage_km = vehicle.vehicle_mileage_km
    row.location_key = normalize(row.location)


@sa_event.listens_for(Listing, "before_update")
def _listing_location_key(_mapper: Mapper[Listing], _connection: Connection, row: Listing) -> None:
    # The records activity's bulk UPDATE sets `location_key` itself (activities/listings.py).
    row.location_key = normalize(row.location)


class ListingSurvey(Base):
    """The owner's satisfaction survey (4 answers), the publication choice and the CGU."""

    __tablename__ = "listing_surveys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), unique=True)
    answer_1: Mapped[str] = mapped_column(String(20))
    answer_2: Mapped[str] = mapped_column(String(20))
    answer_3: Mapped[str] = mapped_column(String(20))
    answer_4: Mapped[str] = mapped_column(String(20))
    publish: Mapped[bool] = mapped_column(Boolean)
    cgu_accepted_at: Mapped[datetime] = mapped_column()
    completed_at: Mapped[datetime] = mapped_column()


class ContactMessage(Base):
    """A prospective buyer's message to an owner, sent from a published listing."""

    __tablename__ = "contact_messages"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportShare(Base):
    """The owner emailing the inspection report to a prospective buyer."""

    __tablename__ = "report_shares"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    recipient_email: Mapped[str] = mapped_column(String(320))
    message: Mapped[str] = mapped_column(String(4000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PasswordResetToken(Base):
    """A one-time "mot de passe oublié" link: only its SHA-256 is stored."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


class RateLimitCounter(Base):
    """Fixed-window counters (logins, contact form, password resets), shared by API replicas."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime] = mapped_column()
    count: Mapped[int] = mapped_column(default=0)


class OwnerSession(Base):
    """A logged-in owner's session: the cookie holds a random token, only its SHA-256 is here.

    Server-side, so logging out or changing the password ends it for good (the row goes).
    """

    __tablename__ = "owner_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()


class IntakeIdempotencyRecord(Base):
    """`Idempotency-Key` of an inspector's intake: the same key and body answer the same intake."""

    __tablename__ = "intake_idempotency_records"
    __table_args__ = (
        UniqueConstraint("inspector_id", "key", name="uq_intake_idempotency_records_inspector_key"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    inspector_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"))
    owner_created: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- ADV at scale (issue 12): what the stuck list reads, all indexed ---------------------


class ActivityFailure(Base):
    """An activity attempt that failed and will be retried: written by the worker's
    `ActivityFailureLog` interceptor, removed when the activity succeeds, gives up or is
    cancelled. The ADV stuck list reads it instead of describing every workflow."""

    __tablename__ = "activity_failures"

    workflow_run_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # proposal | listing
    target_id: Mapped[str] = mapped_column(String(100))
    activity_type: Mapped[str] = mapped_column(String(200))
    attempt: Mapped[int] = mapped_column()  # the last failed attempt's number
    first_failed_at: Mapped[datetime] = mapped_column(index=True)
    last_failed_at: Mapped[datetime] = mapped_column()
    last_error: Mapped[str] = mapped_column(String(1000), default="")


# Partial indexes: the few rows the ADV stuck list looks for, never a scan of the many.
Index(
    "ix_proposals_email_failed_updated_at",
    Proposal.updated_at,
    Proposal.id,
    postgresql_where=Proposal.email_failed.is_(True),
    sqlite_where=Proposal.email_failed.is_(True),
)
Index(
    "ix_listings_email_failed_updated_at",
    Listing.updated_at,
    Listing.id,
    postgresql_where=Listing.email_failed.is_(True),
    sqlite_where=Listing.email_failed.is_(True),
)
Index("ix_proposals_state_updated_at", Proposal.state, Proposal.updated_at, Proposal.id)
Index(
    "ix_outbox_emails_unsent",
    OutboxEmail.idempotency_key,
    postgresql_where=OutboxEmail.status != "sent",
    sqlite_where=OutboxEmail.status != "sent",
)


# --- The dealer's web app (issue 13): people of a dealer centre, their sessions and links ---


class DealerUser(Base):
    """A person of a dealer centre who logs in to `/vendeur` with email and password.

    The centre (`dealer_id`) is what they act as: the same principal as the centre's API
    token. The password is stored only as an argon2 hash, and is None until the person
    follows the set-password link `carflow dealer user add` printed. A disabled user cannot
    log in (their sessions end when disabled).
    """

    __tablename__ = "dealer_users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    dealer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dealers.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # lower case
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(500))
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    disabled_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column()


class DealerSession(Base):
    """A dealer user's session: the cookie holds a random token, only its SHA-256 is here.

    Server-side, so logging out, a password change or disabling the user ends it for good.
    """

    __tablename__ = "dealer_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dealer_users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()


class DealerPasswordToken(Base):
    """A one-time link to choose a password: `set` (printed by the CLI) or `reset` (emailed).

    Only its SHA-256 is stored; it expires and works once.
    """

    __tablename__ = "dealer_password_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dealer_users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(10))  # set | reset
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


# --- The dealer's "Consulter" timeline (issue 13) ----------------------------------------


class ProposalTimelineEntry(Base):
    """One step of a proposal's life as the dealer's timeline shows it (sent, each view,
    signing started, signed, cancelled...): written by the `records` activity with the
    projection that carries it, so it is the read model's, never a workflow query. The
    unique (proposal, version, event) makes a retried projection write nothing twice."""

    __tablename__ = "proposal_timeline_entries"
    __table_args__ = (
        UniqueConstraint("proposal_id", "version", "event", name="uq_proposal_timeline_entries_step"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    proposal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column()  # the projection's state_version
    event: Mapped[str] = mapped_column(String(30))  # sent | resent | viewed | signing | signed | <state>
    at: Mapped[datetime] = mapped_column()
    detail: Mapped[str] = mapped_column(String(200), default="")  # e.g. the view's number


# --- The dealer's activity and notifications (issue 13) ----------------------------------

# The activity dashboard counts each event of a centre's proposals over a period: one range
# on (dealer, the event's time) per count (api/dealer_app/activity_queries.py).
Index("ix_proposals_dealer_first_sent", Proposal.dealer_id, Proposal.first_sent_at)
Index("ix_proposals_dealer_first_viewed", Proposal.dealer_id, Proposal.first_viewed_at)
Index("ix_proposals_dealer_signed", Proposal.dealer_id, Proposal.signed_at)
Index("ix_proposals_dealer_withdrawn", Proposal.dealer_id, Proposal.withdrawn_at)
Index("ix_proposals_dealer_state_expires", Proposal.dealer_id, Proposal.state, Proposal.expires_at)
# The notices relay's "about to expire" scan: open proposals whose validity ends soon.
Index("ix_proposals_state_expires", Proposal.state, Proposal.expires_at)


class DealerNotificationSettings(Base):
    """Which events a centre is emailed about, and where (no row: every event, to the
    centre's email)."""

    __tablename__ = "dealer_notification_settings"

    dealer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("dealers.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str | None] = mapped_column(String(320))  # None: the centre's email
    on_first_view: Mapped[bool] = mapped_column(Boolean, default=True)
    on_signed: Mapped[bool] = mapped_column(Boolean, default=True)
    on_withdrawn: Mapped[bool] = mapped_column(Boolean, default=True)
    on_expiring: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DealerNotice(Base):
    """A notice to the dealer about one event of one proposal, queued once: the primary key
    is the dedupe (the email itself is an outbox row with a key derived from it)."""

    __tablename__ = "dealer_notices"

    proposal_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True
    )
    event: Mapped[str] = mapped_column(String(20), primary_key=True)  # first_view | withdrawn | expiring
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
