"""`carflow dealer user add|list|disable|enable`: the people of a centre, from the command line."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import httpx
from dealer_app_kit import csrf_of
from test_cli import carflow

from carflow.settings import Settings


async def post_login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    form = await client.get("/vendeur/connexion")
    return await client.post(
        "/vendeur/connexion", data={"csrf": csrf_of(form.text), "email": email, "password": password}
    )


async def test_add_prints_a_set_password_link_then_list_disable_and_enable(
    migrated: Settings, client: httpx.AsyncClient
) -> None:
    dealer = json.loads(carflow(migrated, "dealer", "create", "Garage du Lac").stdout)
    added = carflow(
        migrated, "dealer", "user", "add", dealer["id"], "Marie@Garage-Lac.example", "--name", "Marie"
    )
    assert added.returncode == 0, added.stderr
    output = json.loads(added.stdout)
    assert output["email"] == "marie@garage-lac.example"
    assert output["set_password_url"].startswith(f"{migrated.public_url}/vendeur/mot-de-passe/")
    assert "one-time link" in added.stderr

    listed = json.loads(carflow(migrated, "dealer", "user", "list", dealer["id"]).stdout)
    assert listed == [
        {
            "id": output["id"],
            "email": "marie@garage-lac.example",
            "name": "Marie",
            "password_set": False,
            "disabled": False,
        }
    ]
    # No password yet: nobody logs in with an empty or guessed one.
    assert (await post_login(client, "marie@garage-lac.example", "")).status_code == 422

    link = urlsplit(output["set_password_url"]).path
    page = await client.get(link)
    assert page.status_code == 200 and "Choisir votre mot de passe" in page.text
    password = "un-mot-de-passe-2026"
    chosen = await client.post(
        link, data={"csrf": csrf_of(page.text), "password": password, "confirmation": password}
    )
    assert chosen.status_code == 303
    assert (await client.get(link)).status_code == 404  # once only
    assert (await post_login(client, "marie@garage-lac.example", password)).status_code == 303
    assert (await client.get("/vendeur/compte")).status_code == 200
    assert json.loads(carflow(migrated, "dealer", "user", "list", dealer["id"]).stdout)[0]["password_set"]

    disabled = carflow(migrated, "dealer", "user", "disable", "marie@garage-lac.example")
    assert disabled.returncode == 0 and json.loads(disabled.stdout)["disabled"] is True
    assert (await client.get("/vendeur/compte")).status_code == 303  # the session ended at once
    assert (await post_login(client, "marie@garage-lac.example", password)).status_code == 401

    enabled = carflow(migrated, "dealer", "user", "enable", "marie@garage-lac.example")
    assert enabled.returncode == 0 and json.loads(enabled.stdout)["disabled"] is False
    assert (await post_login(client, "marie@garage-lac.example", password)).status_code == 303


async def test_bad_input_is_one_line_and_exit_code_1(migrated: Settings) -> None:
    dealer = json.loads(carflow(migrated, "dealer", "create", "Garage du Lac").stdout)
    assert carflow(migrated, "dealer", "user", "add", dealer["id"], "a@garage.example").returncode == 0
    for args, message in (
        (("add", dealer["id"], "a@garage.example"), "already exists"),
        (("add", dealer["id"], "pas-une-adresse"), "not an email address"),
        (("add", "00000000-0000-0000-0000-000000000000", "b@garage.example"), "no dealer"),
        (("add", "pas-un-id", "b@garage.example"), "badly formed"),
        (("disable", "personne@garage.example"), "no dealer user"),
    ):
        result = carflow(migrated, "dealer", "user", *args)
        assert result.returncode == 1, result
        assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr
