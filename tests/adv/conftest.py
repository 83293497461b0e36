"""ADV fixtures: staff/dealer/inspector tokens (the worker, sink and proposals: tests/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.accounts import create_dealer, create_inspector, create_staff


@dataclass(frozen=True)
class Tokens:
    staff: str
    staff_id: str
    dealer: str
    inspector: str

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    @property
    def adv(self) -> dict[str, str]:
        return self.bearer(self.staff)


@pytest.fixture
async def tokens(session_factory: async_sessionmaker[AsyncSession]) -> Tokens:
    async with session_factory() as session:
        staff = await create_staff(session, "Alice ADV")
        dealer = await create_dealer(session, "Garage Nord", email="nord@example.com")
        inspector = await create_inspector(session, "Expert Auto")
        await session.commit()
    return Tokens(staff.token, str(staff.id), dealer.token, inspector.token)
