"""Face to face in the dealer app (issue 13): bank details and the buyer's ticks, the SMS
code read from the sink, the contract, "Terminer"; French messages at each field."""

from __future__ import annotations

import copy
import re

import httpx
from buyer_helpers import VALID_IBAN
from dealer_api import VALID_BODY, insert_proposal_row
from dealer_app_kit import add_dealer_user, csrf_of, login_client

from support import eventually

SMS_TO = "0612345678@sms.localhost"


async def sms_code(sink, before: int) -> str:  # noqa: ANN001
    async def texted() -> str | None:
        for mail in sink.messages()[before:]:
            if mail["To"] == SMS_TO:
                found = re.search(r"(\d{6})", mail.get_body(preferencelist=("plain",)).get_content())
                return found.group(1) if found else None
        return None

    return await eventually(texted)


async def test_face_to_face_from_a_draft_to_terminer_with_the_code_from_the_sms(
    client: httpx.AsyncClient, session_factory, worker, sink
) -> None:
    login = await add_dealer_user(session_factory)
    await login_client(client, login)
    body = copy.deepcopy(VALID_BODY)
    created = await client.post("/api/v1/proposals", json=body, headers=login.api_headers)
    proposal_id = created.json()["id"]
    base = f"/vendeur/propositions/{proposal_id}/face-a-face"

    form_page = await client.get(base)
    assert form_page.status_code == 200 and "Envoyer le code par SMS" in form_page.text
    csrf = csrf_of(form_page.text)
    # Bad IBAN, nothing ticked: each message next to its field and at the top; no SMS.
    bad = await client.post(base, data={"csrf": csrf, "iban": "FR12", "account_holder": "Jeanne Dupont"})
    assert bad.status_code == 422
    for field in ("iban", "cg_accepted", "no_claim"):
        assert f'id="{field}-error"' in bad.text, field
    summary = bad.text[bad.text.index('id="error-summary"') :]
    links = re.findall(r'<li><a href="#([a-z_]+)">', summary)
    assert links == ["iban", "cg_accepted", "no_claim"]  # the form's order
    assert bad.text.count("Votre client doit attester que son véhicule n&#39;a pas connu de sinistre.") == 2
    assert 'value="FR12"' in bad.text
    assert not any(m["To"] == SMS_TO for m in sink.messages())

    before = len(sink.messages())
    started = await client.post(
        base,
        data={
            "csrf": csrf,
            "iban": VALID_IBAN,
            "account_holder": "Jeanne Dupont",
            "cg_accepted": "oui",
            "no_claim": "oui",
        },
    )
    assert started.status_code == 303 and started.headers["location"] == f"{base}/code"
    code_page = await client.get(started.headers["location"])
    assert "se terminant par 78" in code_page.text and "Afficher le contrat à signer" in code_page.text
    code = await sms_code(sink, before)

    wrong = "000000" if code != "000000" else "111111"
    refused = await client.post(f"{base}/code", data={"csrf": csrf, "code": wrong})
    assert refused.status_code == 422
    assert refused.text.count("Ce code n&#39;est pas le bon : il reste 4 essai(s).") == 2
    malformed = await client.post(f"{base}/code", data={"csrf": csrf, "code": "12"})
    assert malformed.status_code == 422 and "Saisissez les 6 chiffres" in malformed.text

    signed = await client.post(f"{base}/code", data={"csrf": csrf, "code": code})
    assert signed.status_code == 303 and signed.headers["location"] == f"{base}/signee"
    done = await client.get(signed.headers["location"])
    assert "Terminer" in done.text
    finished = await client.post(f"{base}/terminer", data={"csrf": csrf_of(done.text)})
    assert finished.status_code == 303
    page = (await client.get(finished.headers["location"])).text
    assert "le contrat est actif" in page and "contrat signé et ses" in page
    assert "Signée : contrat actif" in page

    async def buyer_mailed_contract() -> bool:
        return any(
            m["To"] == "jeanne.dupont@example.com"
            and m.get_content_maintype() == "multipart"
            and any(part.get_filename() for part in m.iter_attachments())
            for m in sink.messages()
        )

    await eventually(buyer_mailed_contract, timeout_s=60)


async def test_a_centre_without_the_remote_sale_option_neither_sends_nor_signs_face_to_face(
    client: httpx.AsyncClient, session_factory, migrated
) -> None:
    login = await add_dealer_user(session_factory, remote_sale_enabled=False)
    csrf = await login_client(client, login)
    row = await insert_proposal_row(session_factory, migrated, login.dealer_id, state="draft")
    page = await client.get(f"/vendeur/propositions/{row.id}")
    assert page.status_code == 200
    assert "Envoyer par email" not in page.text and "en face à face" not in page.text
    base = f"/vendeur/propositions/{row.id}"
    for answer in (
        await client.get(f"{base}/face-a-face"),
        await client.post(f"{base}/face-a-face", data={"csrf": csrf, "iban": VALID_IBAN}),
        await client.post(f"{base}/envoyer", data={"csrf": csrf, "version": "0"}),
    ):
        assert answer.status_code == 403
        assert "Contactez votre commercial" in answer.text
