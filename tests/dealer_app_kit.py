"""What every dealer-app test (issue 13) uses: a centre with a user, logged in.

* `await add_dealer_user(target, ...)`: a dealer centre (unless `dealer_id` is given) and a
  user with a password; `target` is the test's `session_factory`, its `migrated` settings,
  a `SharedStack` or the browser tests' `live`. Returns a `DealerLogin` (ids, email, password).
* `await login_client(client, login)`: logs an httpx client in through the form, as a
  browser does; returns the CSRF token to post the app's forms with (`data={"csrf": ...}`).
* `await login_page(page, live, login)`: logs a Playwright page in against `live`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from playwright.async_api import Page
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from stack import session_factory_for

from api.dealer_app.users import add_user
from carflow.settings import Settings
from db.accounts import create_dealer
from db.models import utcnow
from support import CHEAP_PASSWORD_HASHING

DEFAULT_PASSWORD = "vendeur-mot-de-passe-2026"


@dataclass(frozen=True)
class DealerLogin:
    dealer_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    password: str
    dealer_token: str | None  # the centre's API token, when the kit created the centre

    @property
    def api_headers(self) -> dict[str, str]:
        assert self.dealer_token, "the centre existed before: no API token from the kit"
        return {"Authorization": f"Bearer {self.dealer_token}"}


@asynccontextmanager
async def _factory(target: Any) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    if isinstance(target, async_sessionmaker):
        yield target
        return
    settings = target if isinstance(target, Settings) else target.settings
    stack = getattr(target, "stack", target)
    factory = getattr(stack, "session_factory", None)
    if factory is not None:
        yield factory
        return
    async with session_factory_for(settings) as made:
        yield made


async def add_dealer_user(
    target: Any,
    dealer_id: uuid.UUID | None = None,
    *,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    name: str = "Paul Vendeur",
    dealer_name: str = "Garage du Nord",
    remote_sale_enabled: bool = True,
) -> DealerLogin:
    email = email or f"vendeur-{uuid.uuid4().hex[:8]}@garage.example"
    hashing = Settings.model_construct(**CHEAP_PASSWORD_HASHING)
    token = None
    async with _factory(target) as factory, factory() as session:
        if dealer_id is None:
            created = await create_dealer(session, dealer_name, remote_sale_enabled=remote_sale_enabled)
            await session.commit()
            dealer_id, token = created.id, created.token
        user = await add_user(session, dealer_id, email, hashing, name=name, password=password, now=utcnow())
        return DealerLogin(dealer_id, user.id, user.email, password, token)


def csrf_of(html: str) -> str:
    """The CSRF token of the (first) form in a page."""
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


async def login_client(client: httpx.AsyncClient, login: DealerLogin) -> str:
    """Log `client` in through /vendeur/connexion; the CSRF token of the logged-in session."""
    form = await client.get("/vendeur/connexion")
    response = await client.post(
        "/vendeur/connexion",
        data={"csrf": csrf_of(form.text), "email": login.email, "password": login.password},
    )
    assert response.status_code == 303, response.text
    account = await client.get("/vendeur/compte")
    assert account.status_code == 200, account.text
    return csrf_of(account.text)


async def login_page(page: Page, live: Any, login: DealerLogin, suite: str | None = None) -> None:
    """Log a Playwright page in against `live` (then it is wherever `suite` leads)."""
    query = f"?suite={suite}" if suite else ""
    await page.goto(f"{live.url}/vendeur/connexion{query}")
    await page.get_by_label("Adresse e-mail").fill(login.email)
    await page.get_by_label("Mot de passe").fill(login.password)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_url(lambda url: "/vendeur/connexion" not in url)
