"""The owner's JSON API once the survey is done: the survey itself, edit, sold, report PDF, share.

Each test drives its own listing (tests/conftest.py's per-test stack); login, the survey
gate and refused input on one shared intake: test_owner_api.py.
"""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from listings_harness import SURVEY_BODY, ListingHarness, intake_and_login, wait_for_mail
from pypdf import PdfReader

from support import Sink

EMAIL = "marie.curie@example.com"


@pytest.fixture
async def owner(
    client: httpx.AsyncClient, inspector: dict, listings: ListingHarness, sink: Sink
) -> dict[str, Any]:
    """An intake done and its owner logged in on `client`."""
    return await intake_and_login(client, inspector, sink)


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
