"""Fixtures for the dealer proposal API: dealers, request bodies, rows (data: dealer_api.py;
the worker: tests/conftest.py)."""

from __future__ import annotations

import copy
import functools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from dealer_api import VALID_BODY, Dealers, InsertProposal, insert_proposal_row, make_dealers
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from carflow.settings import Settings
from db.models import Proposal


@pytest.fixture
async def dealers(session_factory: async_sessionmaker[AsyncSession]) -> Dealers:
    return await make_dealers(session_factory)


@pytest.fixture
def new_body() -> Callable[..., dict[str, Any]]:
    """A valid create body; `new_body(send=True)` or edit the returned copy."""

    def make(**top: Any) -> dict[str, Any]:
        body = copy.deepcopy(VALID_BODY)
        body.update(top)
        return body

    return make


@pytest.fixture
def insert_proposal(session_factory: async_sessionmaker[AsyncSession], migrated: Settings) -> InsertProposal:
    return functools.partial(insert_proposal_row, session_factory, migrated)


@pytest.fixture
def count_rows(session_factory: async_sessionmaker[AsyncSession]) -> Callable[..., Awaitable[int]]:
    async def count(model: type = Proposal) -> int:
        async with session_factory() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

    return count
