"""`/vendeur/notifications` (issue 13): the centre chooses its notices and their address;
CSRF checked, a bad address refused in French with nothing saved, each centre its own."""

from __future__ import annotations

import httpx
from dealer_app_kit import add_dealer_user, login_client

from db.models import Dealer, DealerNotificationSettings

ALL = {"on_first_view": "oui", "on_signed": "oui", "on_withdrawn": "oui", "on_expiring": "oui"}


async def _row(session_factory, dealer_id) -> DealerNotificationSettings | None:
    async with session_factory() as session:
        return await session.get(DealerNotificationSettings, dealer_id)


async def test_the_centre_saves_its_choices_and_sees_them_again(
    client: httpx.AsyncClient, session_factory
) -> None:
    login = await add_dealer_user(session_factory)
    async with session_factory() as session:
        dealer = await session.get(Dealer, login.dealer_id)
        assert dealer is not None
        dealer.email = "accueil@garage.example"
        await session.commit()
    token = await login_client(client, login)

    page = await client.get("/vendeur/notifications")
    assert page.status_code == 200
    # No choice saved yet: every notice, to the centre's address.
    assert page.text.count(" checked") == 4
    assert "Laissez vide pour utiliser l&#39;adresse de votre centre : accueil@garage.example" in page.text
    assert 'aria-current="page">Notifications' in page.text

    saved = await client.post(
        "/vendeur/notifications",
        data={"csrf": token, "email": " Notifs@Garage.example ", "on_signed": "oui", "on_expiring": "oui"},
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/vendeur/notifications?ok=notifications"
    row = await _row(session_factory, login.dealer_id)
    assert row is not None
    assert (row.email, row.on_first_view, row.on_signed, row.on_withdrawn, row.on_expiring) == (
        "notifs@garage.example",
        False,
        True,
        False,
        True,
    )
    again = await client.get(saved.headers["location"])
    assert "Vos préférences de notification sont enregistrées." in again.text
    assert again.text.count(" checked") == 2
    assert 'value="notifs@garage.example"' in again.text


async def test_a_bad_address_is_refused_in_french_and_nothing_is_saved(
    client: httpx.AsyncClient, session_factory
) -> None:
    login = await add_dealer_user(session_factory)
    token = await login_client(client, login)
    message = "Indiquez une adresse e-mail valide, par exemple contact@garage.fr."
    answer = await client.post(
        "/vendeur/notifications", data={"csrf": token, "email": "pas-une-adresse", **ALL}
    )
    assert answer.status_code == 422
    assert f'<li><a href="#email">{message}</a></li>' in answer.text
    assert f'<p class="field-error" id="email-error">{message}</p>' in answer.text
    assert 'value="pas-une-adresse"' in answer.text  # what was typed, to correct it
    assert await _row(session_factory, login.dealer_id) is None

    # The kit's centre has no email: notices need an address then.
    no_address = await client.post("/vendeur/notifications", data={"csrf": token, "email": "", **ALL})
    assert no_address.status_code == 422
    assert "Votre centre n&#39;a pas d&#39;adresse e-mail enregistrée" in no_address.text
    assert await _row(session_factory, login.dealer_id) is None
    # Turning every notice off needs none.
    off = await client.post("/vendeur/notifications", data={"csrf": token, "email": ""})
    assert off.status_code == 303


async def test_without_a_valid_csrf_token_nothing_is_saved(
    client: httpx.AsyncClient, session_factory
) -> None:
    login = await add_dealer_user(session_factory)
    await login_client(client, login)
    answer = await client.post("/vendeur/notifications", data={"csrf": "forged", "email": "x@y.fr"})
    assert answer.status_code == 403
    assert await _row(session_factory, login.dealer_id) is None


async def test_each_centre_has_its_own_choices(client: httpx.AsyncClient, session_factory) -> None:
    mine = await add_dealer_user(session_factory)
    other = await add_dealer_user(session_factory)
    async with session_factory() as session:
        session.add(DealerNotificationSettings(dealer_id=other.dealer_id, email="secret@autre.example"))
        await session.commit()
    token = await login_client(client, mine)
    page = await client.get("/vendeur/notifications")
    assert "secret@autre.example" not in page.text
    await client.post("/vendeur/notifications", data={"csrf": token, "email": "moi@garage.example"})
    theirs = await _row(session_factory, other.dealer_id)
    assert theirs is not None and theirs.email == "secret@autre.example"
    assert (await _row(session_factory, mine.dealer_id)).email == "moi@garage.example"  # type: ignore[union-attr]
