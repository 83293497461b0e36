"""`make run`'s demo data include a dealer-app login, and its banner prints it first."""

from __future__ import annotations

import json

import httpx
from dealer_app_kit import csrf_of
from sqlalchemy import delete, select
from test_cli import carflow

from carflow.settings import Settings
from cli.devrunner import banner
from db.models import DealerUser


async def test_the_demo_login_opens_the_dealer_app_and_the_banner_prints_it_first(
    migrated: Settings, client: httpx.AsyncClient
) -> None:
    loaded = carflow(migrated, "demo")
    assert loaded.returncode == 0, loaded.stderr
    credentials = json.loads(loaded.stdout)
    login = credentials["dealer"]["login"]
    assert credentials["dealer_without_remote_sale"]["login"]["email"] != login["email"]

    form = await client.get("/vendeur/connexion")
    response = await client.post(
        "/vendeur/connexion",
        data={"csrf": csrf_of(form.text), "email": login["email"], "password": login["password"]},
    )
    assert response.status_code == 303
    account = await client.get("/vendeur/compte")
    assert account.status_code == 200 and credentials["dealer"]["name"] in account.text

    text = banner(migrated, credentials)
    where = text.split("Where to click:")[1].splitlines()
    assert f"{migrated.public_url}/vendeur" in where[1]
    assert login["email"] in where[2] and login["password"] in where[2]


async def test_demo_data_of_an_older_start_gain_the_logins(migrated: Settings, session_factory) -> None:
    first = json.loads(carflow(migrated, "demo").stdout)
    # As `make run` left them before the dealer app existed: no users, no logins in the file.
    async with session_factory() as session:
        await session.execute(delete(DealerUser))
        await session.commit()
    for key in ("dealer", "dealer_without_remote_sale"):
        first[key].pop("login")
    (migrated.var_dir / "demo-credentials.json").write_text(json.dumps(first))

    again = carflow(migrated, "demo")
    assert again.returncode == 0, again.stderr
    credentials = json.loads(again.stdout)
    assert credentials["dealer"]["login"]["email"] == "vendeur@garage-tilleuls.example"
    async with session_factory() as session:
        emails = set(await session.scalars(select(DealerUser.email)))
    assert emails == {"vendeur@garage-tilleuls.example", "vendeur@auto-sud.example"}
