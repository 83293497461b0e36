"""The stuck list asks Temporal's visibility at most once per refresh per API process: many
staff pages at once cost one query, a stale answer is served while one refresh runs, and a
refresh that fails is the next page's 503 (never a stale list hiding that Temporal is gone)."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.adv.visibility import ProblemWatch, WorkflowsUnseen
from support import free_port
from workflows.proposal_contract import proposal_id_from_workflow_id

URL = "/api/v1/adv/workflows?stuck=true"


async def test_concurrent_stuck_pages_send_one_visibility_query(app: FastAPI, client, tokens) -> None:
    watch: ProblemWatch = app.state.adv_problems
    assert watch.refresh_s == 5.0  # the default
    answers = await asyncio.gather(*(client.get(URL, headers=tokens.adv) for _ in range(12)))
    assert [a.status_code for a in answers] == [200] * 12
    assert watch.asked == 1
    assert (await client.get(URL, headers=tokens.adv)).status_code == 200
    assert watch.asked == 1  # still fresh


async def test_a_done_retry_makes_the_next_stuck_page_ask_again(
    app: FastAPI, client, tokens, proposals
) -> None:
    watch: ProblemWatch = app.state.adv_problems
    handle = await proposals.create()
    assert (await client.get(URL, headers=tokens.adv)).status_code == 200
    proposal_id = proposal_id_from_workflow_id(handle.id)
    retried = await client.post(f"/api/v1/adv/proposals/{proposal_id}/retry", headers=tokens.adv)
    assert retried.json()["result"] == "done", retried.text
    assert (await client.get(URL, headers=tokens.adv)).status_code == 200
    assert watch.asked == 2  # not the answer kept from before the retry


async def test_a_stale_answer_is_served_while_one_refresh_runs(temporal_env: WorkflowEnvironment) -> None:
    watch = ProblemWatch(refresh_s=0.05)
    assert await watch.problems(temporal_env.client) == []
    await asyncio.sleep(0.1)
    first, second = await asyncio.gather(
        watch.problems(temporal_env.client), watch.problems(temporal_env.client)
    )
    assert first == second == []
    assert watch.refresh_task is not None
    await watch.refresh_task
    assert watch.asked == 2  # one refresh for both, run in the background


async def test_a_failed_refresh_makes_the_next_page_ask_and_fail(temporal_env: WorkflowEnvironment) -> None:
    watch = ProblemWatch(refresh_s=0.05)
    await watch.problems(temporal_env.client)
    dead = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)
    await asyncio.sleep(0.1)
    assert await watch.problems(dead) == []  # stale, while the refresh finds nobody
    assert watch.refresh_task is not None
    await asyncio.wait([watch.refresh_task])
    with pytest.raises(WorkflowsUnseen):
        await watch.problems(dead)


async def test_forgetting_makes_the_next_page_ask(temporal_env: WorkflowEnvironment) -> None:
    watch = ProblemWatch(refresh_s=60)
    await watch.problems(temporal_env.client)
    await watch.problems(temporal_env.client)
    assert watch.asked == 1
    watch.forget()  # an ADV retry
    await watch.problems(temporal_env.client)
    assert watch.asked == 2


async def test_refresh_zero_asks_at_every_page(temporal_env: WorkflowEnvironment) -> None:
    watch = ProblemWatch(refresh_s=0)
    for _ in range(3):
        await watch.problems(temporal_env.client)
    assert watch.asked == 3


async def test_closing_cancels_a_refresh_under_way(temporal_env: WorkflowEnvironment) -> None:
    watch = ProblemWatch(refresh_s=0)
    pending = asyncio.ensure_future(watch.problems(temporal_env.client))
    await asyncio.sleep(0)
    await watch.close()
    with pytest.raises(asyncio.CancelledError):
        await pending
