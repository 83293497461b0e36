"""Without Temporal, reads keep working from the read model; actions answer 503, never 500."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest
from listings_harness import SURVEY_BODY, api_login, csrf_of, login_page

from carflow.links import inspection_reference, report_token_hash
from carflow.password_hashing import hash_password
from carflow.settings import Settings
from db.models import Inspection, InspectionCheckpoint, Listing, Owner

PASSWORD = "a-long-enough-password"


@pytest.fixture
async def offline(migrated: Settings, session_factory) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:  # noqa: ANN001
    """An app whose Temporal address answers nothing, and a published listing in the read model."""
    from api import create_app

    owner_id, inspection_id, listing_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with session_factory() as session:
        session.add(
            Owner(
                id=owner_id,
                email="offline@example.com",
                first_name="Hors",
                last_name="Ligne",
                password_hash=hash_password(PASSWORD, migrated),
            )
        )
        await session.flush()
        session.add(
            Inspection(
                id=inspection_id,
                owner_id=owner_id,
                report_token_hash=report_token_hash(migrated, inspection_id),
                reference=inspection_reference(inspection_id),
                vehicle_make="Dacia",
                vehicle_model="Sandero",
                vehicle_registration="CD-456-EF",
                vehicle_first_registration=date(2020, 5, 1),
                vehicle_mileage_km=30_000,
                inspected_at=datetime(2026, 11, 1, tzinfo=UTC),
                inspector_name="Expert",
                summary="Très bon état.",
            )
        )
        await session.flush()
        session.add(
            InspectionCheckpoint(inspection_id=inspection_id, position=1, label="Freins", grade="good")
        )
        session.add(
            Listing(
                id=listing_id,
                inspection_id=inspection_id,
                owner_id=owner_id,
                state="published",
                publicly_visible=True,
                price_cents=800_000,
                published_at=datetime(2026, 11, 2, tzinfo=UTC),
            )
        )
        await session.commit()
    app = create_app(migrated)  # no Temporal client: it connects on first use, and fails
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield http, str(listing_id)
    await app.state.engine.dispose()


async def test_reads_work_and_actions_answer_503_without_temporal(
    offline: tuple[httpx.AsyncClient, str],
) -> None:
    http, listing_id = offline
    assert (await http.get("/api/v1/listings")).json()["total"] == 1
    assert (await http.get(f"/annonces/{listing_id}")).status_code == 200
    assert (await api_login(http, "offline@example.com", PASSWORD)).status_code == 200
    mine = (await http.get("/api/v1/owner/listings")).json()
    assert mine["items"][0]["state"] == "published"
    assert (await http.get(f"/api/v1/owner/listings/{listing_id}")).status_code == 200
    assert (await http.get(f"/espace/annonces/{listing_id}")).status_code == 200

    edit = await http.patch(f"/api/v1/owner/listings/{listing_id}", json={"price_cents": 1})
    assert edit.status_code == 503
    assert edit.json()["error"]["code"] == "temporal_unavailable"
    survey = await http.post(f"/api/v1/owner/listings/{listing_id}/survey", json=SURVEY_BODY)
    assert survey.status_code == 409  # the read model already knows the survey is done
    contact = await http.post(
        f"/api/v1/listings/{listing_id}/contact",
        json={"name": "Paul", "email": "paul@example.com", "message": "Toujours disponible ?"},
    )
    assert contact.status_code == 503

    http.cookies.clear()
    assert (await login_page(http, "offline@example.com", PASSWORD)).status_code == 303
    form = await http.get(f"/espace/annonces/{listing_id}/modifier")
    page = await http.post(
        f"/espace/annonces/{listing_id}/modifier",
        data={"csrf": csrf_of(form.text), "published": "yes", "price": "8000", "location": "Lille"},
    )
    assert page.status_code == 503
    assert "momentanément indisponible" in page.text
    assert "support@carflow.localhost" in page.text  # whom to contact meanwhile
    assert page.headers["content-type"].startswith("text/html")
