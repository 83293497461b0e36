"""Fixtures for the dealer proposal API: dealers, request bodies, rows (the worker: tests/conftest.py)."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from carflow.links import buyer_token_hash
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


@pytest.fixture
async def dealers(session_factory: async_sessionmaker[AsyncSession]) -> Dealers:
    async with session_factory() as session:
        a = await create_dealer(session, "Garage Nord", email="nord@example.com", phone="01 11 11 11 11")
        b = await create_dealer(session, "Garage Sud", email="sud@example.com")
        off = await create_dealer(session, "Garage Est", remote_sale_enabled=False)
        await session.commit()
    return Dealers(
        DealerAccount(a.id, a.token), DealerAccount(b.id, b.token), DealerAccount(off.id, off.token)
    )


@pytest.fixture
def new_body() -> Callable[..., dict[str, Any]]:
    """A valid create body; `new_body(send=True)` or edit the returned copy."""

    def make(**top: Any) -> dict[str, Any]:
        body = copy.deepcopy(VALID_BODY)
        body.update(top)
        return body

    return make


InsertProposal = Callable[..., Awaitable[Proposal]]


@pytest.fixture
def insert_proposal(session_factory: async_sessionmaker[AsyncSession], migrated: Settings) -> InsertProposal:
    """Write a proposal row directly (no workflow), for list, search and access tests."""

    async def insert(dealer_id: uuid.UUID, **overrides: Any) -> Proposal:
        proposal_id = overrides.pop("id", uuid.uuid4())
        created_at = overrides.pop("created_at", datetime.now(UTC))
        values: dict[str, Any] = {
            "contract_number": f"CF{proposal_id.int % 10**10:010d}",
            "product_code": "ENT24",
            "product_label": "Contrat d'entretien 24 mois",
            "product_kind": "service",
            "price_cents": 49900,
            "duration_months": 24,
            "buyer_first_name": "Jeanne",
            "buyer_last_name": "Dupont",
            "buyer_email": "jeanne.dupont@example.com",
            "buyer_mobile": "+33612345678",
            "buyer_address_line1": "12 rue de la Paix",
            "buyer_postal_code": "75002",
            "buyer_city": "Paris",
            "vehicle_vin": "VF3LCYHZPHS123456",
            "vehicle_registration": "AB-123-CD",
            "vehicle_make": "Peugeot",
            "vehicle_model": "308",
            "vehicle_first_registration": date(2021, 3, 1),
            "vehicle_mileage_km": 42000,
            "seller_name": "Paul Vendeur",
            "seller_email": "paul@garage-nord.example.com",
            "state": "draft",
            "expires_at": created_at + timedelta(days=30),
        }
        values.update(overrides)
        row = Proposal(
            id=proposal_id,
            dealer_id=dealer_id,
            buyer_token_hash=buyer_token_hash(migrated, proposal_id),
            created_at=created_at,
            updated_at=created_at,
            **values,
        )
        async with session_factory() as session:
            session.add(row)
            await session.commit()
        return row

    return insert


@pytest.fixture
def count_rows(session_factory: async_sessionmaker[AsyncSession]) -> Callable[..., Awaitable[int]]:
    async def count(model: type = Proposal) -> int:
        async with session_factory() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

    return count
