"""With Temporal down, people's pages are French pages with whom to contact, never JSON.

Before: the buyer's page showed the API's raw JSON error when Temporal was down. An app
whose Temporal address answers nothing (it connects on first use, and fails).
"""

from __future__ import annotations

import httpx
from dealer_api import make_dealers

from api.buyer.service import csrf_token
from carflow.links import buyer_token
from carflow.settings import Settings


async def test_the_buyer_reads_their_proposal_and_a_step_says_in_french_whom_to_call(
    offline: httpx.AsyncClient, migrated: Settings, session_factory, insert_proposal
) -> None:
    dealers = await make_dealers(session_factory)
    row = await insert_proposal(dealers.a.id, state="viewed")
    token = buyer_token(migrated, row.id)

    page = await offline.get(f"/p/{token}")
    assert page.status_code == 200, page.text  # read from the read model, the view uncounted
    assert page.headers["content-type"].startswith("text/html")
    assert "Garage Nord" in page.text

    step = await offline.post(
        f"/p/{token}/decline",
        data={"csrf": csrf_token(migrated, token), "confirmed": "yes"},
        follow_redirects=False,
    )
    assert step.status_code == 503
    assert step.headers["content-type"].startswith("text/html")
    assert "momentanément indisponible" in step.text
    assert "01 11 11 11 11" in step.text  # the dealer's phone, on the page
    assert '{"error"' not in step.text

    # The JSON API keeps its JSON.
    api = await offline.post(f"/api/v1/buyer/{token}/decline")
    assert api.status_code == 503 and api.json()["error"]["code"] == "temporal_unavailable"


async def test_any_error_on_a_page_is_a_french_page_with_the_support_contact(
    offline: httpx.AsyncClient,
) -> None:
    page = await offline.get("/espace/nothing-here")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "support@carflow.localhost" in page.text
    assert (await offline.get("/api/v1/nothing-here")).json()["error"]["code"] == "not_found"
