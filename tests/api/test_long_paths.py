"""A very long address is not echoed into the login redirect (found by `make fuzz`).

Before: `/espace/annonces/<100 kB>` without a session answered 303 with a 100 kB `Location`
(`/espace/connexion?suite=...`), which http.client (and browsers, proxies) refuse to read:
no answer at all for the client. Now the login page is given no `suite=` past 512 characters.
"""

from __future__ import annotations

LONG = "x" * 60_000  # httpx refuses URLs over 64 kB; the fuzz sent 100 kB with requests


async def test_owner_page_with_a_huge_id_redirects_to_the_login_without_suite(client) -> None:
    response = await client.get(f"/espace/annonces/{LONG}/modifier")
    assert response.status_code == 303
    assert response.headers["location"] == "/espace/connexion"


async def test_owner_page_with_a_normal_address_comes_back_after_login(client) -> None:
    response = await client.get("/espace/expertises")
    assert response.status_code == 303
    assert response.headers["location"] == "/espace/connexion?suite=%2Fespace%2Fexpertises"


async def test_dealer_page_with_a_huge_query_redirects_to_the_login_without_suite(client) -> None:
    response = await client.get(f"/vendeur/compte?q={LONG}")
    assert response.status_code == 303
    assert response.headers["location"] == "/vendeur/connexion"
