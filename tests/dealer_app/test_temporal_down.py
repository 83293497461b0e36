"""With Temporal down the dealer app still logs people in and shows their pages (reads come
from the read model; `ctx.proposals` answers 503 only for actions)."""

from __future__ import annotations

import httpx
from dealer_app_kit import add_dealer_user, login_client

from carflow.settings import Settings


async def test_log_in_and_read_a_page_while_temporal_is_down(migrated: Settings, session_factory) -> None:
    from api import create_app

    app = create_app(migrated)  # its Temporal address answers nothing
    login = await add_dealer_user(session_factory, dealer_name="Garage du Nord")
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http:
            await login_client(http, login)
            page = await http.get("/vendeur/compte")
            assert page.status_code == 200 and "Garage du Nord" in page.text
    finally:
        await app.state.engine.dispose()
