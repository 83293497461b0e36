"""Face-to-face signing: the dealer enters the buyer's bank details, the buyer receives a
6-digit code by SMS (sent by the workflow's activity) and reads it out; the right code signs.

Codes live 10 minutes and allow 5 tries; only their salted hash is stored. Asking again for
a code while signing restarts signing (abandon, then start again) with a fresh code.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

from fastapi import Request
from sqlalchemy import select, update

from api.errors import ApiError
from api.proposals.service import ProposalService, client_ip, store_then_fire
from carflow.iban import IbanVault, InvalidIban, mask_iban, normalize_iban
from carflow.onetime_codes import CODE_TTL, MAX_TRIES, hash_code
from db.models import Proposal, SigningCode
from statemachines.proposal import Actor
from workflows.proposal_contract import EventRequest, ProposalStatus, SignatureAuditData


def masked_mobile(mobile: str) -> str:
    digits = "".join(c for c in mobile if c.isdigit())
    return f"{'*' * max(len(digits) - 2, 0)}{digits[-2:]}"


async def start(
    service: ProposalService,
    row: Proposal,
    iban: str,
    account_holder: str,
    cg_accepted: bool,
    no_claim_since_sent: bool | None = None,
) -> ProposalStatus:
    """`no_claim_since_sent`: the buyer's attestation, ticked on the dealer's screen (the
    dealer app always asks it; None for integrations that do not collect it)."""
    errors = []
    if not cg_accepted:
        errors.append({"field": "cg_accepted", "message": "the buyer must accept the general conditions"})
    if no_claim_since_sent is False:
        errors.append(
            {"field": "no_claim_since_sent", "message": "the buyer must attest no claim since sending"}
        )
    try:
        compact = normalize_iban(iban)
    except InvalidIban as exc:
        errors.append({"field": "iban", "message": str(exc)})
    holder = " ".join(account_holder.split())
    if not 2 <= len(holder) <= 200:
        errors.append({"field": "account_holder", "message": "the account holder's name is required"})
    if errors:
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise ApiError(422, "validation_error", f"Invalid request: {summary}", fields=errors)

    machine = await service.lifecycle(row)
    if machine.can("abandon", now=service.clock(), actor=Actor.DEALER):
        # Signing is under way and a new code was asked for (lost SMS, locked or expired
        # code): start signing afresh.
        await service.fire(row, "abandon", EventRequest(actor="dealer", reason="new_code"))
    bank_details = {
        "iban_encrypted": IbanVault(service.settings).encrypt(compact),
        "iban_masked": mask_iban(compact),
        "account_holder": holder,
        "conditions_accepted_at": datetime.now(UTC),
        **({"no_claim_attested_at": datetime.now(UTC)} if no_claim_since_sent else {}),
        # The contract to review is rendered again, by the worker, with these details.
        "contract_pdf_sha256": None,
        "contract_reviewed_at": None,
    }
    return await store_then_fire(
        service.session,
        row,
        bank_details,
        lambda: service.fire(row, "start_in_person", EventRequest(actor="dealer")),
    )


async def confirm(service: ProposalService, row: Proposal, code: str, request: Request) -> ProposalStatus:
    session = service.session
    latest = await session.scalar(
        select(SigningCode)
        .where(SigningCode.proposal_id == row.id)
        .order_by(SigningCode.issued_at.desc())
        .limit(1)
    )
    if latest is None:
        raise ApiError(
            409, "no_code", "No signing code was sent for this proposal: start in-person signing first."
        )
    if datetime.now(UTC) - latest.issued_at > CODE_TTL:
        raise ApiError(409, "code_expired", "The code has expired (10 minutes): ask for a new one.")
    # Counting the try and checking the limit in one statement: concurrent tries cannot
    # exceed the limit.
    counted = await session.execute(
        update(SigningCode)
        .where(SigningCode.id == latest.id, SigningCode.tries < MAX_TRIES)
        .values(tries=SigningCode.tries + 1)
    )
    await session.commit()
    if not counted.rowcount:  # type: ignore[attr-defined]
        raise ApiError(409, "code_locked", f"{MAX_TRIES} wrong codes: ask for a new code.")
    await session.refresh(latest)
    if not hmac.compare_digest(latest.code_hash, hash_code(code.strip(), latest.attempt_key)):
        left = MAX_TRIES - latest.tries
        if left <= 0:
            raise ApiError(409, "code_locked", f"{MAX_TRIES} wrong codes: ask for a new code.")
        raise ApiError(422, "wrong_code", f"Wrong code: {left} tries left.", tries_left=left)
    audit = SignatureAuditData(
        method="sms_code",
        signer_name=f"{row.buyer_first_name} {row.buyer_last_name}",
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent", "")[:300],
    )
    return await service.fire(row, "sign", EventRequest(actor="dealer", audit=audit))
