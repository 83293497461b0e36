"""Signing effects: signed documents mailed with the welcome and the dealer's notice; SMS code."""

from __future__ import annotations

import asyncio
import io
import re
import uuid

import pypdf
from proposal_harness import Proposals, fire, record_history, status
from sqlalchemy import select

from activities.signing import signing_code_for
from carflow.onetime_codes import hash_code
from db.models import SigningCode
from support import Sink, eventually
from workflows.proposal_contract import (
    EventRequest,
    ProposalStatus,
    SignatureAuditData,
    proposal_id_from_workflow_id,
)


async def until_mailed(sink: Sink, count: int) -> None:
    for _ in range(200):
        if len(sink.messages()) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} mails, got {sink.subjects()}")


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


async def test_signature_mails_signed_contract_welcome_and_dealer_notice(
    proposals: Proposals, sink: Sink
) -> None:
    handle = await proposals.create(kind="insurance", send_now=True)
    await fire(handle, "view", actor="buyer")
    await fire(handle, "accept", actor="buyer")
    audit = SignatureAuditData(
        method="local", signer_name="Marie Curie", ip="203.0.113.9", user_agent="Firefox/140"
    )
    await handle.execute_update("sign", EventRequest(actor="buyer", audit=audit), result_type=ProposalStatus)
    await until_mailed(sink, 4)
    # The SMTP sink has the last mail a moment before the activity that sent it returns.
    await eventually(lambda: status(handle), lambda s: not s.pending_emails)
    mails = {str(m["Subject"]): m for m in sink.messages()}
    row = await proposals.row(handle)

    signed = next(m for s, m in mails.items() if s.startswith("Votre contrat"))
    assert signed["To"] == "marie@example.com"
    files = {part.get_filename(): part.get_payload(decode=True) for part in signed.iter_attachments()}
    assert set(files) == {f"contrat-{row.contract_number}-signe.pdf", "conditions-generales-insurance.pdf"}
    contract_text = pdf_text(files[f"contrat-{row.contract_number}-signe.pdf"])
    assert "Marie Curie" in contract_text and row.contract_number in contract_text
    assert "Page d'audit de la signature" in contract_text and "203.0.113.9" in contract_text
    assert "30 jours" in pdf_text(files["conditions-generales-insurance.pdf"])

    assert any(s.startswith("Bienvenue") for s in mails)
    notice = next(m for s, m in mails.items() if s.startswith("Vente signée"))
    assert notice["To"] == "garage@example.com"
    assert (row.signature_method, row.contract_status) == ("local", "active")
    await record_history(handle, "signed_with_documents")


async def test_in_person_start_texts_a_code_stored_only_hashed(proposals: Proposals, sink: Sink) -> None:
    handle = await proposals.create()
    await fire(handle, "start_in_person")
    await until_mailed(sink, 1)
    [sms] = sink.messages()
    assert sms["To"] == "0612345678@sms.localhost"
    code = re.search(r"code de signature est (\d{6})", sms.get_body(preferencelist=("plain",)).get_content())
    assert code is not None
    proposal_id = uuid.UUID(proposal_id_from_workflow_id(handle.id))
    row = None
    # `sent` is recorded right after the SMTP server took the SMS, a moment after the sink has it.
    for _ in range(100):
        async with proposals.session_factory() as session:
            row = await session.scalar(select(SigningCode).where(SigningCode.proposal_id == proposal_id))
        if row is not None and row.sent:
            break
        await asyncio.sleep(0.05)
    assert row is not None and row.sent
    assert row.code_hash == hash_code(code.group(1), row.attempt_key)
    assert code.group(1) == signing_code_for(proposals.settings, row.attempt_key)
    assert code.group(1) not in row.code_hash
    await record_history(handle, "in_person_code_sent")
