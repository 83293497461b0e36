"""The owner's JSON API around one intake: login, the survey gate, refused surveys, 404s.

Nothing here changes the listing (the gate and the validation refuse; a wrong password only
counts a failure no other test reads), so the intake and the login are made once for the
module (read_only.py), and each test gets a new browser with the owner's session cookies.
Accepted surveys, edits, sales and shares: test_owner_actions.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from listings_harness import SURVEY_BODY, api_login, inspector_headers, intake_and_login
from stack import SharedStack

pytestmark = pytest.mark.asyncio(loop_scope="module")

EMAIL = "marie.curie@example.com"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def owner(module_stack: SharedStack) -> dict[str, Any]:
    """An intake done and its owner logged in; the session's cookies under "cookies"."""
    async with module_stack.client() as http:
        inspector = await inspector_headers(module_stack.session_factory)
        logged_in = await intake_and_login(http, inspector, module_stack.sink)
        return {**logged_in, "cookies": httpx.Cookies(http.cookies)}


@pytest_asyncio.fixture(loop_scope="module")
async def client(module_stack: SharedStack, owner: dict[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    """A browser with the owner's session, for one test."""
    async with module_stack.client(owner["cookies"]) as http:
        yield http


async def test_login_sets_a_session_and_lists_my_inspections(client: httpx.AsyncClient, owner: dict) -> None:
    me = await client.get("/api/v1/owner/me")
    assert me.json()["email"] == EMAIL
    page = (await client.get("/api/v1/owner/listings")).json()
    assert (page["total"], page["page"]) == (1, 1)
    [item] = page["items"]
    assert item["id"] == owner["listing_id"]
    assert (item["state"], item["survey_completed"], item["allowed_events"]) == (
        "pending_survey",
        False,
        ["complete_survey"],
    )
    # The gate comes before anything else: no report link until the survey is done.
    assert item["report_url"] is None and item["report_pdf_url"] is None
    assert item["vehicle"]["make"] == "Peugeot"


async def test_wrong_password_is_a_401_without_saying_which_part_was_wrong(
    client: httpx.AsyncClient, owner: dict
) -> None:
    client.cookies.clear()
    for email, password in ((EMAIL, "wrong-password"), ("nobody@example.com", "whatever")):
        response = await api_login(client, email, password)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_credentials"
        assert response.json()["error"]["message_fr"] == "Adresse e-mail ou mot de passe incorrect."
    assert (await client.get("/api/v1/owner/listings")).status_code == 401


async def test_survey_gate_blocks_every_owner_action(client: httpx.AsyncClient, owner: dict) -> None:
    base = f"/api/v1/owner/listings/{owner['listing_id']}"
    attempts = [
        client.patch(base, json={"price_cents": 1000}),
        client.patch(base, json={"published": True}),
        client.post(f"{base}/sold"),
        client.get(f"{base}/report.pdf"),
        client.post(f"{base}/share", json={"email": "buyer@example.com", "message": "Bonjour"}),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status_code == 409, response.text
        error = response.json()["error"]
        assert (error["code"], error["state"], error["allowed_events"]) == (
            "survey_required",
            "pending_survey",
            ["complete_survey"],
        )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**SURVEY_BODY, "answers": ["excellent", "parfait", "poor", "poor"]}, "answers.1"),
        ({**SURVEY_BODY, "answers": ["excellent"] * 3}, "answers"),
        ({**SURVEY_BODY, "answers": ["excellent"] * 5}, "answers"),
        ({"answers": SURVEY_BODY["answers"], "publish": True}, "cgu_accepted"),
        ({**SURVEY_BODY, "cgu_accepted": False}, "cgu_accepted"),
        ({**SURVEY_BODY, "publish": "maybe"}, "publish"),
        ({**SURVEY_BODY, "answers": [0, 6, 3, 3]}, "answers.0"),
    ],
)
async def test_bad_survey_is_a_422_naming_the_field(
    client: httpx.AsyncClient, owner: dict, body: dict, field: str
) -> None:
    response = await client.post(f"/api/v1/owner/listings/{owner['listing_id']}/survey", json=body)
    assert response.status_code == 422, response.text
    assert field in [f["field"] for f in response.json()["error"]["fields"]]


async def test_unknown_listing_id_is_a_404_and_a_malformed_one_a_422(
    client: httpx.AsyncClient, owner: dict
) -> None:
    missing = await client.get("/api/v1/owner/listings/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    malformed = await client.patch("/api/v1/owner/listings/not-an-id", json={"price_cents": 1})
    assert malformed.status_code == 422
    assert malformed.json()["error"]["fields"][0]["field"] == "listing_id"
