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
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

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


class Proposal(Base):
    """A proposal's content, plus the read model of its workflow (written by `records`)."""

    __tablename__ = "proposals"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    dealer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dealers.id"), index=True)
    contract_number: Mapped[str] = mapped_column(String(20), unique=True)
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
    contract_pdf_sha256: Mapped[str | None] = mapped_column(String(64))  # as reviewed
    contract_reviewed_at: Mapped[datetime | None] = mapped_column()
    signed_pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    conditions_pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    signature_method: Mapped[str | None] = mapped_column(String(20))

    # Read model: only the records activity writes below this line.
    state: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    state_version: Mapped[int] = mapped_column(default=0)
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
    email_failed: Mapped[bool] = mapped_column(Boolean, default=False)
    email_error: Mapped[str | None] = mapped_column(String(1000))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


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
    __table_args__ = (UniqueConstraint("dealer_id", "email", name="uq_sellers_dealer_email"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    dealer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dealers.id"), index=True)
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
