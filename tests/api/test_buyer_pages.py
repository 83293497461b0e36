"""The buyer's pages: each step renders in French, forms work without JavaScript, CSRF checked."""

from __future__ import annotations

import re

from buyer_helpers import accept_body, contract_ready, send_proposal

from api.buyer.service import csrf_token


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found is not None
    return found.group(1)


async def test_each_step_renders_and_forms_advance(client, dealers, new_body, worker, sink, migrated) -> None:
    _, token = await send_proposal(client, dealers, new_body, sink)

    page = await client.get(f"/p/{token}")
    assert page.status_code == 200
    for text in (
        "Votre proposition de contrat",
        "valable jusqu'au",
        "Garage Nord",
        "Conditions générales",
        "IBAN du compte à prélever",
        "Valider et passer à la signature",
        'lang="fr"',
    ):
        assert text in page.text, text
    assert '<label for="iban">' in page.text  # every field has its label
    conditions = await client.get(f"/p/{token}/conditions")
    assert conditions.status_code == 200 and "Droit de rétractation" in conditions.text

    invalid = await client.post(
        f"/p/{token}/accept",
        data={
            "csrf": csrf_of(page.text),
            "iban": "FR00 1234",
            "account_holder": "Jeanne Dupont",
            "no_claim": "yes",
            "cg_accepted": "true",
        },
    )
    assert invalid.status_code == 422
    assert "IBAN invalide" in invalid.text and 'value="FR00 1234"' in invalid.text  # input kept

    accepted = await client.post(
        f"/p/{token}/accept",
        data={
            "csrf": csrf_of(page.text),
            "iban": accept_body()["iban"],
            "account_holder": "Jeanne Dupont",
            "no_claim": "yes",
            "cg_accepted": "true",
        },
    )
    assert accepted.status_code == 303 and accepted.headers["location"] == f"/p/{token}"
    reviewed = await contract_ready(client, token)
    assert (await client.get(f"/p/{token}/contract.pdf")).content == reviewed
    sign_page = await client.get(f"/p/{token}")
    assert "Signature de votre contrat" in sign_page.text and "Signer le contrat" in sign_page.text
    assert "FR76 **** ****" in sign_page.text

    signed = await client.post(
        f"/p/{token}/sign", data={"csrf": csrf_of(sign_page.text), "full_name": "Jeanne Dupont"}
    )
    assert signed.status_code == 303
    done = await client.get(signed.headers["location"])
    assert "Votre contrat est signé" in done.text and "Merci !" in done.text
    assert "Me rétracter" in done.text

    # Irreversible: first what it will do and until when, nothing fired yet.
    asked = await client.post(f"/p/{token}/withdraw", data={"csrf": csrf_of(done.text)})
    assert asked.status_code == 200 and "Confirmez-vous votre rétractation ?" in asked.text
    assert "annulé sans frais" in asked.text and "jusqu'au" in asked.text
    assert (await client.get(f"/api/v1/buyer/{token}")).json()["state"] == "signed"
    withdrawn = await client.post(
        f"/p/{token}/withdraw", data={"csrf": csrf_of(asked.text), "confirmed": "yes"}
    )
    assert withdrawn.status_code == 303
    final = await client.get(f"/p/{token}")
    assert "Votre rétractation est enregistrée" in final.text
    assert "Me rétracter" not in final.text
    assert csrf_of(page.text) == csrf_token(migrated, token)


async def test_forms_without_the_csrf_token_are_refused(client, dealers, new_body, worker, sink) -> None:
    _, token = await send_proposal(client, dealers, new_body, sink)
    refused = await client.post(f"/p/{token}/decline", data={"csrf": "forged"})
    assert refused.status_code == 403
    # A page, in French (it was the API's JSON before).
    assert refused.headers["content-type"].startswith("text/html")
    assert "Formulaire expiré" in refused.text
    still = await client.get(f"/api/v1/buyer/{token}")
    assert still.json()["state"] in ("sent", "viewed")


async def test_expired_page_says_so_with_the_dealer_contact(
    client, dealers, new_body, worker, sink, temporal_env
) -> None:
    from datetime import timedelta

    _, token = await send_proposal(client, dealers, new_body, sink)
    await temporal_env.sleep(timedelta(days=31))
    page = await client.get(f"/p/{token}")
    assert page.status_code == 200
    assert "Délai légal de finalisation dépassé" in page.text
    assert "Garage Nord" in page.text and "01 11 11 11 11" in page.text


async def test_a_claim_declines_with_a_message(client, dealers, new_body, worker, sink) -> None:
    _, token = await send_proposal(client, dealers, new_body, sink)
    page = await client.get(f"/p/{token}")
    answer = await client.post(
        f"/p/{token}/accept",
        data={
            "csrf": csrf_of(page.text),
            "iban": accept_body()["iban"],
            "account_holder": "J D",
            "no_claim": "no",
            "cg_accepted": "true",
        },
    )
    assert answer.status_code == 303
    final = await client.get(f"/p/{token}")
    assert "qu'un sinistre est survenu depuis l'envoi" in final.text
    assert "Contactez votre concessionnaire" in final.text and "Vous avez refusé" not in final.text


async def test_declining_asks_first_then_says_it_was_the_buyers_choice(
    client, dealers, new_body, worker, sink
) -> None:
    _, token = await send_proposal(client, dealers, new_body, sink)
    page = await client.get(f"/p/{token}")

    asked = await client.post(f"/p/{token}/decline", data={"csrf": csrf_of(page.text)})
    assert asked.status_code == 200 and "Refuser cette proposition ?" in asked.text
    assert "Oui, je refuse la proposition" in asked.text and f'href="/p/{token}"' in asked.text
    assert (await client.get(f"/api/v1/buyer/{token}")).json()["state"] == "viewed"

    declined = await client.post(
        f"/p/{token}/decline", data={"csrf": csrf_of(asked.text), "confirmed": "yes"}
    )
    assert declined.status_code == 303
    closed = await client.get(f"/p/{token}")
    assert "Vous avez refusé cette proposition" in closed.text
    assert "sinistre" not in closed.text  # the text of a declared claim is for a declared claim
