"""The owner's JSON API: login, survey gate, survey, edit, sold, report PDF, share."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from listings_harness import (
    SURVEY_BODY,
    ListingHarness,
    api_login,
    credentials_for,
    post_intake,
    wait_for_mail,
)
from pypdf import PdfReader

from support import Sink

EMAIL = "marie.curie@example.com"


@pytest.fixture
async def owner(
    client: httpx.AsyncClient, inspector: dict, listings: ListingHarness, sink: Sink
) -> dict[str, Any]:
    """An intake done and its owner logged in on `client`."""
    created = await post_intake(client, inspector)
    password = await credentials_for(sink, EMAIL)
    response = await api_login(client, EMAIL, password)
    assert response.status_code == 200, response.text
    return {**created, "password": password, "csrf": response.json()["csrf_token"]}


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


async def test_survey_accepts_french_level_names(client: httpx.AsyncClient, owner: dict) -> None:
    body = {
        "answers": ["Mauvais", "insuffisant", "Très bien", "EXCELLENT"],
        "publish": False,
        "cgu_accepted": True,
    }
    response = await client.post(f"/api/v1/owner/listings/{owner['listing_id']}/survey", json=body)
    assert response.status_code == 200, response.text
    listing = response.json()
    assert (listing["state"], listing["publicly_visible"], listing["survey_completed"]) == (
        "private",
        False,
        True,
    )
    assert listing["report_url"].startswith("http://127.0.0.1:8000/r/")
    # A second survey is refused: it is done.
    again = await client.post(f"/api/v1/owner/listings/{owner['listing_id']}/survey", json=SURVEY_BODY)
    assert again.status_code == 409


async def test_after_the_survey_the_owner_edits_sells_downloads_and_shares(
    client: httpx.AsyncClient, owner: dict, sink: Sink
) -> None:
    base = f"/api/v1/owner/listings/{owner['listing_id']}"
    published = (await client.post(f"{base}/survey", json=SURVEY_BODY)).json()
    assert (published["state"], published["publicly_visible"]) == ("published", True)
    assert published["publication_ends_at"] is not None
    assert set(published["allowed_events"]) == {"unpublish", "mark_sold", "edit", "share_report"}

    # A price of 0 € saves, with a warning.
    free = await client.patch(base, json={"price_cents": 0, "negotiable": False, "location": "Villeurbanne"})
    assert free.status_code == 200, free.text
    body = free.json()
    assert (body["price_cents"], body["location"], body["negotiable"]) == (0, "Villeurbanne", False)
    assert [w["code"] for w in body["warnings"]] == ["price_missing"]
    priced = (await client.patch(base, json={"price_cents": 1_150_000})).json()
    assert (priced["price_cents"], priced["warnings"]) == (1_150_000, [])

    for bad, field in (
        ({"price_cents": -1}, "price_cents"),
        ({"price_cents": "12000"}, "price_cents"),
        ({"location": "x" * 201}, "location"),
        ({"published": "yes please"}, "published"),
        ({"sold": True}, "sold"),
    ):
        response = await client.patch(base, json=bad)
        assert response.status_code == 422, (bad, response.text)
        assert field in [f["field"] for f in response.json()["error"]["fields"]]

    hidden = (await client.patch(base, json={"published": False})).json()
    assert (hidden["state"], hidden["publicly_visible"]) == ("private", False)

    pdf = await client.get(f"{base}/report.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Peugeot" in text and "Embrayage" in text

    shared = await client.post(
        f"{base}/share",
        json={"email": "buyer@example.com", "message": "Bonjour,\nVoici le rapport de ma 308."},
    )
    assert shared.status_code == 202, shared.text
    messages = await wait_for_mail(sink, 2)
    [mail] = [m for m in messages if m["To"] == "buyer@example.com"]
    assert mail["Reply-To"] == EMAIL
    assert "Voici le rapport de ma 308." in mail.get_body(preferencelist=("plain",)).get_content()
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"

    too_long = await client.post(f"{base}/share", json={"email": "buyer@example.com", "message": "x" * 2001})
    assert too_long.status_code == 422
    assert too_long.json()["error"]["fields"][0]["field"] == "message"

    sold = (await client.post(f"{base}/sold")).json()
    assert (sold["state"], sold["sold"], sold["publicly_visible"]) == (
        "sold",
        True,
        False,
    )  # sold while private
    refused = await client.patch(base, json={"published": True})
    assert refused.status_code == 409
    assert refused.json()["error"]["state"] == "sold"


async def test_unknown_listing_id_is_a_404_and_a_malformed_one_a_422(
    client: httpx.AsyncClient, owner: dict
) -> None:
    missing = await client.get("/api/v1/owner/listings/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    malformed = await client.patch("/api/v1/owner/listings/not-an-id", json={"price_cents": 1})
    assert malformed.status_code == 422
    assert malformed.json()["error"]["fields"][0]["field"] == "listing_id"
