"""ADV fixtures: staff/dealer/inspector tokens, a real worker with an SMTP sink, proposals."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from proposal_harness import Proposals
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from carflow.settings import Settings
from db.accounts import create_dealer, create_inspector, create_staff
from support import Sink
from worker import create_worker


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


@pytest.fixture
def sink(migrated: Settings) -> Iterator[Sink]:
    s = Sink(migrated)
    s.start()
    yield s
    s.stop()


@pytest.fixture
async def proposals(
    migrated: Settings, session_factory, temporal_env: WorkflowEnvironment, sink: Sink
) -> AsyncIterator[Proposals]:
    """A real worker on the time-skipping server; `proposals.create()` starts a proposal."""
    async with create_worker(temporal_env.client, migrated, session_factory=session_factory):
        yield Proposals(migrated, session_factory, temporal_env)
