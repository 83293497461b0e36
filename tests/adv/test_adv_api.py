"""The ADV API: staff only (401/403), running and stuck lists, retry outcomes, audit and log."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
import structlog
from proposal_harness import Proposals, fire
from sqlalchemy import select
from temporalio.client import WorkflowExecutionStatus

from db.models import AdvAuditEntry, Inspection, Listing, Owner
from workflows.listing_contract import listing_workflow_id
from workflows.proposal_contract import proposal_id_from_workflow_id

ENDPOINTS = [
    ("GET", "/api/v1/adv/workflows?stuck=true"),
    ("GET", "/api/v1/adv/workflows"),
    ("POST", f"/api/v1/adv/proposals/{uuid.uuid4()}/retry"),
    ("POST", f"/api/v1/adv/listings/{uuid.uuid4()}/retry"),
    ("GET", "/api/v1/adv/audit"),
]


async def closed(handle) -> None:  # noqa: ANN001
    for _ in range(100):
        if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{handle.id} still running")


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
async def test_adv_endpoints_refuse_other_roles(client: httpx.AsyncClient, tokens, method, path) -> None:
    missing = await client.request(method, path)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthorized"
    for role in ("dealer", "inspector"):
        refused = await client.request(method, path, headers=tokens.bearer(getattr(tokens, role)))
        assert refused.status_code == 403, (role, refused.text)
        assert refused.json()["error"]["code"] == "forbidden"
        assert "staff token" in refused.json()["error"]["message"]


async def test_refused_roles_leave_no_audit_entry(client, tokens, session_factory) -> None:
    for token in (tokens.dealer, tokens.inspector):
        await client.post(f"/api/v1/adv/proposals/{uuid.uuid4()}/retry", headers=tokens.bearer(token))
    async with session_factory() as session:
        assert (await session.scalars(select(AdvAuditEntry))).all() == []


async def test_running_list_pages_and_a_healthy_proposal_is_not_stuck(
    client: httpx.AsyncClient, tokens, proposals: Proposals
) -> None:
    handles = [await proposals.create() for _ in range(3)]
    first = await client.get("/api/v1/adv/workflows", params={"page_size": 2}, headers=tokens.adv)
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["total"], body["page"], body["page_size"], len(body["items"])) == (3, 1, 2, 2)
    second = (
        await client.get("/api/v1/adv/workflows", params={"page_size": 2, "page": 2}, headers=tokens.adv)
    ).json()
    listed = {i["workflow_id"] for i in body["items"] + second["items"]}
    assert listed == {h.id for h in handles}
    assert all(i["stuck"] is False and i["reason"] is None for i in body["items"])
    assert all(i["state"] == "draft" for i in body["items"])
    stuck = (await client.get("/api/v1/adv/workflows?stuck=true", headers=tokens.adv)).json()
    assert stuck == {"items": [], "total": 0, "page": 1, "page_size": 50, "next_cursor": None}

    # A closed workflow is not running any more: not listed. (Not `await result()`: waiting
    # on a result lets the time-skipping server jump to the other drafts' 30-day expiry.)
    await fire(handles[0], "cancel")
    await closed(handles[0])
    after = (await client.get("/api/v1/adv/workflows", headers=tokens.adv)).json()
    assert {i["workflow_id"] for i in after["items"]} == {h.id for h in handles[1:]}


async def test_signing_open_longer_than_the_threshold_is_stuck(
    app, client: httpx.AsyncClient, tokens, proposals: Proposals, migrated
) -> None:
    handle = await proposals.create()
    await fire(handle, "start_in_person")
    assert (await client.get("/api/v1/adv/workflows?stuck=true", headers=tokens.adv)).json()["total"] == 0

    later = datetime.now(UTC) + timedelta(hours=migrated.adv_signing_stuck_hours, minutes=5)
    app.state.clock = lambda: later
    [item] = (await client.get("/api/v1/adv/workflows?stuck=true", headers=tokens.adv)).json()["items"]
    assert (item["workflow_id"], item["state"], item["cause"]) == (handle.id, "signing", "signing_open")
    assert f"signing open for {migrated.adv_signing_stuck_hours} h" in item["reason"]
    # Listings only: the proposal is filtered out.
    listings = await client.get("/api/v1/adv/workflows?stuck=true&kind=listing", headers=tokens.adv)
    assert listings.json()["items"] == []


async def test_retry_outcomes_are_audited_and_logged(
    client: httpx.AsyncClient, tokens, proposals: Proposals, session_factory
) -> None:
    handle = await proposals.create()
    proposal_id = proposal_id_from_workflow_id(handle.id)
    unknown = str(uuid.uuid4())
    with structlog.testing.capture_logs() as logs:
        ok = await client.post(f"/api/v1/adv/proposals/{proposal_id}/retry", headers=tokens.adv)
        missing = await client.post(f"/api/v1/adv/proposals/{unknown}/retry", headers=tokens.adv)
        garbage = await client.post("/api/v1/adv/proposals/not-an-id/retry", headers=tokens.adv)
        listing = await client.post(f"/api/v1/adv/listings/{unknown}/retry", headers=tokens.adv)
        await fire(handle, "cancel")
        await handle.result()
        closed = await client.post(f"/api/v1/adv/proposals/{proposal_id}/retry", headers=tokens.adv)

    assert ok.status_code == 200 and ok.json()["result"] == "done", ok.text
    assert ok.json()["actions"] == ["signal retry_emails"]
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert garbage.status_code == 404
    assert listing.status_code == 404
    assert listing.json()["error"]["message"] == f"no listing {unknown}"
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "not_running"
    assert "completed" in closed.json()["error"]["message"]

    async with session_factory() as session:
        entries = (await session.scalars(select(AdvAuditEntry).order_by(AdvAuditEntry.at))).all()
    assert [(e.kind, e.target_id, e.result) for e in entries] == [
        ("proposal", proposal_id, "done"),
        ("proposal", unknown, "not_found"),
        ("proposal", "not-an-id", "not_found"),
        ("listing", unknown, "not_found"),
        ("proposal", proposal_id, "not_running"),
    ]
    assert {(e.staff_name, str(e.staff_id), e.action, e.via) for e in entries} == {
        ("Alice ADV", tokens.staff_id, "retry", "api")
    }
    assert all(e.at.tzinfo is not None for e in entries)
    assert missing.json()["error"]["audit_id"] == str(entries[1].id)

    retries = [line for line in logs if line["event"] == "adv_retry"]
    assert [(r["workflow_id"], r["result"]) for r in retries] == [
        (handle.id, "done"),
        (f"proposal-{unknown}", "not_found"),
        ("proposal-not-an-id", "not_found"),
        (f"listing-{unknown}", "not_found"),
        (handle.id, "not_running"),
    ]
    assert all(r["staff_name"] == "Alice ADV" and r["staff_id"] == tokens.staff_id for r in retries)

    audit = (await client.get("/api/v1/adv/audit?page_size=2", headers=tokens.adv)).json()
    assert audit["total"] == 5 and len(audit["items"]) == 2
    assert audit["items"][0]["result"] == "not_running"  # newest first
    # The same log by cursor: the rest, in order, without overlap.
    shown = [e["id"] for e in audit["items"]]
    while audit["next_cursor"]:
        params = {"page_size": 2, "cursor": audit["next_cursor"]}
        audit = (await client.get("/api/v1/adv/audit", params=params, headers=tokens.adv)).json()
        shown += [e["id"] for e in audit["items"]]
    assert shown == [str(e.id) for e in sorted(entries, key=lambda e: (e.at, e.id), reverse=True)]


async def test_listing_retry_needs_a_listing_in_the_database(
    client: httpx.AsyncClient, tokens, temporal_env
) -> None:
    # A workflow named like a listing, but no such listing: 404, nothing signalled.
    listing_id = str(uuid.uuid4())
    handle = await temporal_env.client.start_workflow(
        "ListingWorkflow", id=listing_workflow_id(listing_id), task_queue="nobody-polls-this"
    )
    answer = await client.post(f"/api/v1/adv/listings/{listing_id}/retry", headers=tokens.adv)
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"]["message"] == f"no listing {listing_id}"
    history = [e.event_type for e in (await handle.fetch_history()).events]
    assert len(history) == 2  # started, first workflow task scheduled: no signal


async def test_listing_from_the_read_model_is_listed_and_retried(
    client: httpx.AsyncClient, tokens, temporal_env, session_factory
) -> None:
    async with session_factory() as session:
        owner = Owner(email="owner@example.com", first_name="Jean", last_name="Martin")
        session.add(owner)
        await session.flush()
        inspection = Inspection(
            owner_id=owner.id,
            report_token_hash=uuid.uuid4().hex * 2,
            reference="EXP-2026-0042",
            vehicle_make="Renault",
            vehicle_model="Clio",
            vehicle_registration="EF-456-GH",
            vehicle_first_registration=date(2019, 5, 1),
            vehicle_mileage_km=61000,
            inspected_at=datetime.now(UTC),
            inspector_name="Expert Auto",
            summary="Bon état général.",
        )
        session.add(inspection)
        await session.flush()
        listing = Listing(inspection_id=inspection.id, owner_id=owner.id, state="published")
        session.add(listing)
        await session.commit()
        listing_id = str(listing.id)
    # Its workflow, with no worker for it: running, and a signal is still recorded.
    handle = await temporal_env.client.start_workflow(
        "ListingWorkflow", id=listing_workflow_id(listing_id), task_queue="nobody-polls-this"
    )
    page = (await client.get("/api/v1/adv/workflows?kind=listing", headers=tokens.adv)).json()
    [item] = page["items"]
    assert (item["kind"], item["id"], item["state"], item["stuck"]) == (
        "listing",
        listing_id,
        "published",
        False,
    )
    assert item["label"] == "Renault Clio EF-456-GH · expertise EXP-2026-0042"

    answer = await client.post(f"/api/v1/adv/listings/{listing_id}/retry", headers=tokens.adv)
    assert answer.status_code == 200, answer.text
    assert answer.json()["actions"] == ["signal retry_emails"]
    events = (await handle.fetch_history()).events
    assert any(e.workflow_execution_signaled_event_attributes.signal_name == "retry_emails" for e in events)
