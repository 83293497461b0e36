"""The buyer's remote journey through HTTP against a real worker on the time-skipping server:
create+send → mail → link → view → accept → sign → signed, documents mailed."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta

import pypdf
import pytest
from buyer_helpers import accept_and_review, accept_body, contract_ready, eventually, send_proposal

from workflows.proposal_contract import proposal_workflow_id


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


async def test_remote_journey_signs_and_mails_the_documents(client, dealers, new_body, worker, sink) -> None:
    proposal, token = await send_proposal(client, dealers, new_body, sink)

    opened = await client.get(f"/api/v1/buyer/{token}")
    assert opened.status_code == 200
    view = opened.json()
    assert (view["state"], view["contract_number"]) == ("viewed", proposal["contract_number"])
    assert view["dealer"]["name"] == "Garage Nord" and view["dealer"]["phone"] == "01 11 11 11 11"
    await client.get(f"/api/v1/buyer/{token}")  # each opening counts
    detail = (await client.get(f"/api/v1/proposals/{proposal['id']}", headers=dealers.a.headers)).json()
    assert detail["view_count"] == 2

    accepted = await client.post(f"/api/v1/buyer/{token}/accept", json=accept_body())
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "signing"
    assert accepted.json()["iban_masked"] == "FR76 **** **** **** **** ***0 189"

    # The accept answered once the worker had made the contract: no "en préparation" to wait out.
    contract = await client.get(f"/api/v1/buyer/{token}/contract.pdf")
    assert contract.status_code == 200, contract.text
    reviewed = await contract_ready(client, token)  # made by the worker, served as stored
    assert contract.headers["content-type"] == "application/pdf" and contract.content == reviewed
    assert "Jeanne Dupont" in pdf_text(contract.content)

    signed = await client.post(
        f"/api/v1/buyer/{token}/sign",
        json={"full_name": "jeanne DUPONT"},
        headers={"User-Agent": "TestPhone/1"},
    )
    assert signed.status_code == 200, signed.text
    assert signed.json()["state"] == "signed"
    assert "withdraw" in signed.json()["actions"]

    async def documents_mailed() -> bool:
        return any(str(m["Subject"]).startswith("Vente signée") for m in sink.messages())

    await eventually(documents_mailed)
    mail = next(m for m in sink.messages() if str(m["Subject"]).startswith("Votre contrat"))
    pdfs = {p.get_filename(): p.get_payload(decode=True) for p in mail.iter_attachments()}
    signed_pdf = pdfs[f"contrat-{proposal['contract_number']}-signe.pdf"]
    text = pdf_text(signed_pdf)
    assert "Jeanne Dupont" in text and proposal["contract_number"] in text
    assert "TestPhone/1" in text and "FR76 **** ****" in text
    assert "14 jours" in pdf_text(pdfs["conditions-generales-service.pdf"])
    subjects = [str(m["Subject"]) for m in sink.messages()]
    assert any(s.startswith("Bienvenue") for s in subjects)
    assert any(s.startswith("Vente signée") for s in subjects)

    detail = (await client.get(f"/api/v1/proposals/{proposal['id']}", headers=dealers.a.headers)).json()
    assert (detail["state"], detail["contract_status"]) == ("signed", "active")
    download = await client.get(f"/api/v1/buyer/{token}/documents/signed.pdf")
    assert download.status_code == 200 and download.content == signed_pdf


async def test_withdrawal_from_the_buyer_side(client, dealers, new_body, worker, sink) -> None:
    _, token = await send_proposal(client, dealers, new_body, sink)
    await client.get(f"/api/v1/buyer/{token}")
    await accept_and_review(client, token)
    await client.post(f"/api/v1/buyer/{token}/sign", json={"full_name": "Jeanne Dupont"})
    withdrawn = await client.post(f"/api/v1/buyer/{token}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    again = await client.post(f"/api/v1/buyer/{token}/withdraw")
    assert again.status_code == 409
    assert again.json()["error"]["allowed_events"] == []


async def test_a_claim_since_sending_declines_and_sends_the_buyer_to_the_dealer(
    client, dealers, new_body, worker, sink
) -> None:
    _, token = await send_proposal(client, dealers, new_body, sink)
    await client.get(f"/api/v1/buyer/{token}")
    answer = await client.post(f"/api/v1/buyer/{token}/accept", json=accept_body(no_claim_since_sent=False))
    assert answer.status_code == 200
    assert answer.json()["state"] == "declined"
    assert "contactez votre concessionnaire" in answer.json()["message"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"iban": "FR76 3000 6000 0112 3456 7890 188"}, "iban"),
        ({"cg_accepted": False}, "cg_accepted"),
        ({"account_holder": " "}, "account_holder"),
    ],
)
async def test_bad_accept_input_is_422_and_nothing_changes(
    client, dealers, new_body, worker, sink, overrides, field
) -> None:
    proposal, token = await send_proposal(client, dealers, new_body, sink)
    await client.get(f"/api/v1/buyer/{token}")
    answer = await client.post(f"/api/v1/buyer/{token}/accept", json=accept_body(**overrides))
    assert answer.status_code == 422
    assert field in {f["field"] for f in answer.json()["error"]["fields"]}
    detail = (await client.get(f"/api/v1/proposals/{proposal['id']}", headers=dealers.a.headers)).json()
    assert detail["state"] == "viewed"


async def test_missing_attestation_is_422(client, dealers, new_body, worker, sink) -> None:
    _, token = await send_proposal(client, dealers, new_body, sink)
    body = accept_body()
    del body["no_claim_since_sent"]
    answer = await client.post(f"/api/v1/buyer/{token}/accept", json=body)
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"][0]["field"] == "no_claim_since_sent"


async def test_tampered_token_is_a_friendly_404(client, dealers, new_body, worker, sink) -> None:
    _, token = await send_proposal(client, dealers, new_body, sink)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    answer = await client.get(f"/api/v1/buyer/{tampered}")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "unknown_link"
    page = await client.get(f"/p/{tampered}")
    assert page.status_code == 404 and "réessayez un peu plus tard" in page.text


async def test_double_submission_and_concurrent_signatures(
    client, dealers, new_body, worker, sink, temporal_env
) -> None:
    proposal, token = await send_proposal(client, dealers, new_body, sink)
    await client.get(f"/api/v1/buyer/{token}")
    first = await client.post(f"/api/v1/buyer/{token}/accept", json=accept_body())
    second = await client.post(f"/api/v1/buyer/{token}/accept", json=accept_body())
    assert (first.status_code, second.status_code) == (200, 409)
    assert second.json()["error"]["state"] == "signing"
    await contract_ready(client, token)

    results = await asyncio.gather(
        client.post(f"/api/v1/buyer/{token}/sign", json={"full_name": "Jeanne Dupont"}),
        client.post(f"/api/v1/buyer/{token}/sign", json={"full_name": "Jeanne Dupont"}),
    )
    # A double click on "Signer" is one update (its id comes from the request and the version
    # it applies to): both answers tell the truth, the contract is signed once.
    assert [r.status_code for r in results] == [200, 200]
    assert {r.json()["state"] for r in results} == {"signed"}
    # A click that reads the proposal once the first has signed it (another update id): the
    # same true answer, and still one signature.
    again = await client.post(f"/api/v1/buyer/{token}/sign", json={"full_name": "Jeanne Dupont"})
    assert (again.status_code, again.json()["state"]) == (200, "signed")
    handle = temporal_env.client.get_workflow_handle(proposal_workflow_id(proposal["id"]))
    history = await handle.fetch_history()
    signs = [
        e
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
        and e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name == "sign"
    ]
    assert len(signs) == 1


async def test_sign_with_another_name_is_refused(client, dealers, new_body, worker, sink) -> None:
    _, token = await send_proposal(client, dealers, new_body, sink)
    await client.get(f"/api/v1/buyer/{token}")
    await accept_and_review(client, token)
    answer = await client.post(f"/api/v1/buyer/{token}/sign", json={"full_name": "Someone Else"})
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"][0]["field"] == "full_name"


async def test_after_the_window_the_button_is_gone_and_the_api_says_why(
    client, dealers, new_body, worker, sink, temporal_env
) -> None:
    from datetime import timedelta

    proposal, token = await send_proposal(client, dealers, new_body, sink)
    await client.get(f"/api/v1/buyer/{token}")
    await accept_and_review(client, token)
    signed = await client.post(f"/api/v1/buyer/{token}/sign", json={"full_name": "Jeanne Dupont"})
    assert "withdraw" in signed.json()["actions"]
    await temporal_env.sleep(timedelta(days=20))  # past 14 days, weekends and holidays included

    page = await client.get(f"/p/{token}")
    assert "Me rétracter" not in page.text
    assert "Le délai de rétractation est terminé" in page.text
    late = await client.post(f"/api/v1/buyer/{token}/withdraw")
    assert late.status_code == 409
    assert late.json()["error"]["state"] == "binding"
    by_dealer = await client.post(f"/api/v1/proposals/{proposal['id']}/withdrawal", headers=dealers.a.headers)
    assert by_dealer.status_code == 409


async def test_dealer_downloads_the_signed_contract_other_dealers_cannot(
    client, dealers, new_body, worker, sink
) -> None:
    proposal, token = await send_proposal(client, dealers, new_body, sink)
    await client.get(f"/api/v1/buyer/{token}")
    await accept_and_review(client, token)
    await client.post(f"/api/v1/buyer/{token}/sign", json={"full_name": "Jeanne Dupont"})

    async def mailed() -> bool:
        return any(str(m["Subject"]).startswith("Votre contrat") for m in sink.messages())

    await eventually(mailed)
    path = f"/api/v1/proposals/{proposal['id']}/documents/signed.pdf"
    mine = await client.get(path, headers=dealers.a.headers)
    assert mine.status_code == 200 and proposal["contract_number"] in pdf_text(mine.content)
    assert (await client.get(path, headers=dealers.b.headers)).status_code == 404
    assert (await client.get(path)).status_code == 401


async def test_signing_waits_for_the_contract_the_worker_makes(
    client, dealers, new_body, worker, sink, monkeypatch
) -> None:
    """Until the worker has stored the contract to review, the buyer is told it is being
    prepared (202, "en préparation" page refreshing), never an error, and nothing is signed."""
    import activities.contract_documents as contract_documents
    import api.lifecycle_client as lifecycle_client

    _, token = await send_proposal(client, dealers, new_body, sink)
    await client.get(f"/api/v1/buyer/{token}")
    gate = asyncio.Event()
    render = contract_documents.ContractDocuments.reviewed_contract

    async def slow_render(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        await gate.wait()
        return await render(self, *args, **kwargs)

    monkeypatch.setattr(contract_documents.ContractDocuments, "reviewed_contract", slow_render)
    # The accept's answer waits for the contract, within the API's bound; past it, pending.
    monkeypatch.setattr(lifecycle_client, "RESULT_TIMEOUT", timedelta(seconds=1))
    assert (await client.post(f"/api/v1/buyer/{token}/accept", json=accept_body())).status_code == 202

    pdf = await client.get(f"/api/v1/buyer/{token}/contract.pdf")
    assert pdf.status_code == 202 and pdf.headers["Retry-After"]
    assert pdf.json()["event"] == "prepare_signing"
    sign = await client.post(f"/api/v1/buyer/{token}/sign", json={"full_name": "Jeanne Dupont"})
    assert sign.status_code == 202 and sign.headers["Location"] == f"/api/v1/buyer/{token}/contract.pdf"
    page = await client.get(f"/p/{token}")
    assert "Votre contrat est en préparation" in page.text and 'http-equiv="refresh"' in page.text
    assert 'action="/p/' + token + '/sign"' not in page.text
    link = await client.get(f"/p/{token}/contract.pdf")
    assert link.status_code == 202 and "Votre document est en préparation" in link.text
    assert (await client.get(f"/api/v1/buyer/{token}")).json()["state"] == "signing"

    gate.set()
    reviewed = await contract_ready(client, token)
    assert (await client.get(f"/p/{token}/contract.pdf")).content == reviewed
    signed = await client.post(f"/api/v1/buyer/{token}/sign", json={"full_name": "Jeanne Dupont"})
    assert signed.status_code == 200 and signed.json()["state"] == "signed"


async def test_every_pdf_of_the_journey_is_rendered_by_the_worker(
    client, dealers, new_body, worker, sink, monkeypatch
) -> None:
    """The API serves stored bytes: each rendering of the remote journey runs inside a Temporal
    activity (the worker), none in an API request (the import contract keeps WeasyPrint out
    of api.buyer altogether)."""
    from temporalio import activity

    from activities import audit_page, contract_page
    from activities.documents import DocumentRenderer

    where: list[tuple[str, bool]] = []
    render = DocumentRenderer._pdf

    def recorded(self, template, context):  # noqa: ANN001, ANN202
        where.append((template, activity.in_activity()))
        return render(self, template, context)

    monkeypatch.setattr(DocumentRenderer, "_pdf", recorded)
    # The contract and its audit page are written without a template (activities/contract_page.py,
    # activities/audit_page.py), the template only as their fallback.
    write_contract_page, write_audit_page = contract_page.render, audit_page.render

    def recorded_contract_page(contract):  # noqa: ANN001, ANN202
        where.append(("contract page", activity.in_activity()))
        return write_contract_page(contract)

    def recorded_audit_page(contract, audit):  # noqa: ANN001, ANN202
        where.append(("audit page", activity.in_activity()))
        return write_audit_page(contract, audit)

    monkeypatch.setattr(contract_page, "render", recorded_contract_page)
    monkeypatch.setattr(audit_page, "render", recorded_audit_page)
    _, token = await send_proposal(client, dealers, new_body, sink)
    await client.get(f"/api/v1/buyer/{token}")
    await accept_and_review(client, token)
    await client.get(f"/p/{token}/contract.pdf")
    assert (await client.post(f"/api/v1/buyer/{token}/sign", json={"full_name": "Jeanne Dupont"})).is_success

    async def signed_stored() -> bool:
        return (await client.get(f"/api/v1/buyer/{token}/documents/signed.pdf")).status_code == 200

    await eventually(signed_stored)
    await client.get(f"/api/v1/buyer/{token}/documents/conditions.pdf")
    templates = [template for template, _ in where]
    assert templates.count("contract page") == 1 and templates.count("audit page") == 1
    assert "contract.html" not in templates  # the buyer's contract fits the written page
    assert all(in_worker for _, in_worker in where), where
