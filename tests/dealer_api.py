"""The dealer API's test data: the create body, three dealers, proposal rows as the API stores them.

Used by tests/api/conftest.py's fixtures and by read_only.py's module-scoped ones.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from proposal_harness import proposal_row
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from carflow.settings import Settings
from db.accounts import create_dealer
from db.models import Proposal

VALID_BODY: dict[str, Any] = {
    "product": {
        "code": "ENT24",
        "label": "Contrat d'entretien 24 mois",
        "kind": "service",
        "price_cents": 49900,
        "duration_months": 24,
    },
    "buyer": {
        "first_name": "Jeanne",
        "last_name": "Dupont",
        "email": "jeanne.dupont@example.com",
        "mobile": "06 12 34 56 78",
        "address": {"line1": "12 rue de la Paix", "postal_code": "75002", "city": "Paris"},
    },
    "vehicle": {
        "vin": "vf3lcyhzphs123456",
        "registration": "ab-123-cd",
        "make": "Peugeot",
        "model": "308",
        "first_registration": "2021-03-01",
        "mileage_km": 42000,
    },
    "seller": {"name": "Paul Vendeur", "email": "paul@garage-nord.example.com", "phone": "01 23 45 67 89"},
    "send": False,
}


@dataclass(frozen=True)
class DealerAccount:
    id: uuid.UUID
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class Dealers:
    a: DealerAccount
    b: DealerAccount
    no_remote: DealerAccount


async def make_dealers(session_factory: async_sessionmaker[AsyncSession]) -> Dealers:
    """Dealer A and B (remote sale on) and a dealer without the remote-sale option."""
    async with session_factory() as session:
        a = await create_dealer(session, "Garage Nord", email="nord@example.com", phone="01 11 11 11 11")
        b = await create_dealer(session, "Garage Sud", email="sud@example.com")
        off = await create_dealer(session, "Garage Est", remote_sale_enabled=False)
        await session.commit()
    return Dealers(
        DealerAccount(a.id, a.token), DealerAccount(b.id, b.token), DealerAccount(off.id, off.token)
    )


InsertProposal = Callable[..., Awaitable[Proposal]]

# VALID_BODY as the API stores it, where it differs from proposal_row()'s defaults.
STORED_BODY: dict[str, Any] = {
    "product_code": "ENT24",
    "product_label": "Contrat d'entretien 24 mois",
    "buyer_first_name": "Jeanne",
    "buyer_last_name": "Dupont",
    "buyer_email": "jeanne.dupont@example.com",
    "buyer_address_line1": "12 rue de la Paix",
    "buyer_postal_code": "75002",
    "seller_email": "paul@garage-nord.example.com",
    "state": "draft",
}


async def insert_proposal_row(
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    dealer_id: uuid.UUID,
    **overrides: Any,
) -> Proposal:
    """Write a proposal row directly (no workflow), for list, search and access tests."""
    created_at = overrides.pop("created_at", datetime.now(UTC))
    row = proposal_row(
        settings,
        dealer_id,
        overrides.pop("id", None),
        created_at=created_at,
        updated_at=created_at,
        **{**STORED_BODY, **overrides},
    )
    async with session_factory() as session:
        session.add(row)
        await session.commit()
    return row
