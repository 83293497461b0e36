"""POST /api/v1/inspections: owner account, listing workflow in pending_survey, who may post.

Bad input (422): test_intake_validation.py."""

from __future__ import annotations

import re
import uuid

import httpx
from listings_harness import ListingHarness, credentials_for, intake_body, post_intake
from sqlalchemy import func, select

from db.accounts import create_dealer
from db.models import Inspection, InspectionCheckpoint, Listing, Owner
from support import Sink


async def test_intake_creates_owner_inspection_and_pending_listing(
    client: httpx.AsyncClient, inspector: dict, listings: ListingHarness, sink: Sink
) -> None:
    created = await post_intake(client, inspector)
    assert created["state"] == "pending_survey"
    assert created["owner_created"] is True
    assert re.fullmatch(r"EX\d{10}", created["reference"])
    token = created["report_url"].rsplit("/r/", 1)[1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # 256 bits, URL-safe

    password = await credentials_for(sink, "marie.curie@example.com")
    assert len(password) >= 12
    async with listings.session_factory() as session:
        listing = await session.get(Listing, uuid.UUID(created["listing_id"]))
        assert listing is not None and listing.state == "pending_survey" and not listing.publicly_visible
        count = await session.scalar(select(func.count()).select_from(InspectionCheckpoint))
        assert count == 5
        inspection = await session.get(Inspection, uuid.UUID(created["inspection_id"]))
        assert inspection is not None
        assert (inspection.vehicle_registration, inspection.inspector_name) == ("AB-123-CD", "Jean Expert")
    status = await listings.workflows.status(uuid.UUID(created["listing_id"]))
    assert status is not None and status.state == "pending_survey"


async def test_same_email_reuses_the_owner_account(
    client: httpx.AsyncClient, inspector: dict, listings: ListingHarness, sink: Sink
) -> None:
    first = await post_intake(client, inspector)
    other = intake_body(
        owner={"email": "Marie.Curie@Example.com", "first_name": "Marie", "last_name": "Curie"}
    )
    other["vehicle"]["registration"] = "EF-456-GH"
    second = await post_intake(client, inspector, other)
    assert second["owner_id"] == first["owner_id"]
    assert second["owner_created"] is False
    assert second["listing_id"] != first["listing_id"]
    assert second["report_url"] != first["report_url"]
    async with listings.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Owner)) == 1


async def test_intake_needs_an_inspector_token(
    client: httpx.AsyncClient, session_factory, listings: ListingHarness
) -> None:  # noqa: ANN001
    assert (await client.post("/api/v1/inspections", json=intake_body())).status_code == 401
    async with session_factory() as session:
        dealer = await create_dealer(session, "Garage")
        await session.commit()
    response = await client.post(
        "/api/v1/inspections", json=intake_body(), headers={"Authorization": f"Bearer {dealer.token}"}
    )
    assert response.status_code == 403


async def test_intake_honours_idempotency_key(
    client: httpx.AsyncClient, inspector: dict, listings: ListingHarness, sink: Sink
) -> None:
    """Same key and body: the same intake (one owner, one listing, one password mail);
    another body with that key: 409. Before: every retry made another inspection."""
    import asyncio

    headers = {**inspector, "Idempotency-Key": "intake-7"}
    answers = await asyncio.gather(
        *(client.post("/api/v1/inspections", json=intake_body(), headers=headers) for _ in range(3))
    )
    assert [a.status_code for a in answers] == [201, 201, 201], [a.text for a in answers]
    assert len({a.json()["listing_id"] for a in answers}) == 1
    assert {a.json()["owner_created"] for a in answers} == {True}  # the same answer each time
    again = await client.post("/api/v1/inspections", json=intake_body(), headers=headers)
    assert again.status_code == 201 and again.json() == answers[0].json()
    assert again.headers["idempotent-replayed"] == "true"

    other = intake_body()
    other["vehicle"]["registration"] = "EF-456-GH"
    reused = await client.post("/api/v1/inspections", json=other, headers=headers)
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    async with listings.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Listing)) == 1
        assert await session.scalar(select(func.count()).select_from(Inspection)) == 1
    await credentials_for(sink, "marie.curie@example.com")
    status = await listings.workflows.status(uuid.UUID(answers[0].json()["listing_id"]))
    assert status is not None and status.state == "pending_survey"
