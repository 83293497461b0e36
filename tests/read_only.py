"""Fixtures for a module whose tests only read what one module-scoped setup made.

Pages, permissions, 404s and validation errors change nothing, so such a module needs one
database, one time-skipping server, one worker and one app (tests/conftest.py's
`module_stack`), and can make its data once. Tests that drive a workflow through time, or
write what another test reads, keep the per-test fixtures of tests/conftest.py.

In the module, every test runs in the module's event loop and takes these fixtures instead of
the per-test ones of the same names:

    pytestmark = pytest.mark.asyncio(loop_scope="module")
    client = read_only.client
    dealers = read_only.dealers
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from dealer_api import Dealers, InsertProposal, insert_proposal_row, make_dealers
from fastapi import FastAPI
from listings_harness import inspector_headers
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from stack import SharedStack
from temporalio.testing import WorkflowEnvironment

from carflow.settings import Settings
from support import Sink


@pytest.fixture(scope="module")
def migrated(module_stack: SharedStack) -> Settings:
    return module_stack.settings


@pytest.fixture(scope="module")
def session_factory(module_stack: SharedStack) -> async_sessionmaker[AsyncSession]:
    return module_stack.session_factory


@pytest.fixture(scope="module")
def temporal_env(module_stack: SharedStack) -> WorkflowEnvironment:
    return module_stack.env


@pytest.fixture(scope="module")
def sink(module_stack: SharedStack) -> Sink:
    return module_stack.sink


@pytest.fixture(scope="module")
def app(module_stack: SharedStack) -> FastAPI:
    return module_stack.app


@pytest_asyncio.fixture(loop_scope="module")
async def client(module_stack: SharedStack) -> AsyncIterator[httpx.AsyncClient]:
    """A new browser (its own cookies) on the shared app, for one test."""
    async with module_stack.client() as http:
        yield http


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def dealers(module_stack: SharedStack) -> Dealers:
    return await make_dealers(module_stack.session_factory)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def inspector(module_stack: SharedStack) -> dict[str, str]:
    """Authorization headers of an inspector account."""
    return await inspector_headers(module_stack.session_factory)


@pytest.fixture(scope="module")
def insert_proposal(module_stack: SharedStack) -> InsertProposal:
    return functools.partial(insert_proposal_row, module_stack.session_factory, module_stack.settings)
