"""With Temporal down the dealer app still logs people in and shows their pages (reads come
from the read model; `ctx.proposals` answers 503 only for actions)."""

from __future__ import annotations

import httpx
from dealer_app_kit import add_dealer_user, login_client


async def test_log_in_and_read_a_page_while_temporal_is_down(
    offline: httpx.AsyncClient, session_factory
) -> None:
    login = await add_dealer_user(session_factory, dealer_name="Garage du Nord")
    await login_client(offline, login)
    page = await offline.get("/vendeur/compte")
    assert page.status_code == 200 and "Garage du Nord" in page.text
