"""Signing side effects: the signed contract's documents and the face-to-face SMS code."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contract_documents import ContractDocuments
from activities.database import DatabaseActivities, proposal_and_dealer
from activities.documents import DocumentRenderer, SignatureAudit
from activities.email import EmailActivities
from activities.email_types import EmailInput
from activities.heartbeat import heartbeating
from carflow.onetime_codes import hash_code
from carflow.settings import Settings
from db.documents import DocumentStore, sha256_hex
from db.models import Proposal, SigningCode
from workflows.proposal_contract import (
    ACTIVITY_COMPLETE_SIGNATURE,
    ACTIVITY_FINALIZE_SIGNATURE,
    ACTIVITY_SIGNING_CODE,
    CompleteSignature,
    FinalizeSignature,
    SignatureAuditData,
    SigningCodeRequest,
)

SIGNATURE_METHODS = {"local": "local", "sms_code": "sms_code", "docusign": "docusign"}


def signing_code_for(settings: Settings, attempt_key: str) -> str:
    """The code is derived, not stored: a retried activity sends the same code again."""
    digest = hmac.new(
        settings.secret_key.get_secret_value().encode(), f"sms-code:{attempt_key}".encode(), hashlib.sha256
    ).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**6:06d}"


def sms_address(settings: Settings, mobile: str) -> str:
    digits = "".join(ch for ch in mobile if ch.isdigit())
    if digits.startswith("33") and len(digits) == 11:
        digits = "0" + digits[2:]  # +33 6… → 06…: what the gateway expects
    return f"{digits}@{settings.sms_gateway_domain}"


@dataclass(eq=False)
class SigningActivities(DatabaseActivities):
    renderer: DocumentRenderer
    store: DocumentStore
    email: EmailActivities

    @activity.defn(name=ACTIVITY_FINALIZE_SIGNATURE)
    async def finalize_signature(self, data: FinalizeSignature) -> str:
        """The signed contract: the reviewed PDF's bytes plus the audit page, stored with the
        general conditions' digest in the proposal row. Idempotent: a retry finds it and stops."""
        async with heartbeating(), self.session_factory() as session:
            return await self._finalize(session, data)

    async def _finalize(self, session: AsyncSession, data: FinalizeSignature) -> str:
        documents = ContractDocuments(self.renderer, self.store)
        proposal, dealer = await proposal_and_dealer(session, data.proposal_id)
        if proposal.signed_pdf_sha256 and proposal.conditions_pdf_sha256:
            return proposal.signed_pdf_sha256
        audit_data = data.audit
        method = audit_data.method if audit_data else "local"
        # Signing started before the worker prepared documents (older workflows): the
        # contract is rendered here, still in the worker.
        await documents.prepare(proposal, dealer, in_person=method == "sms_code")
        assert proposal.contract_pdf_sha256 is not None
        reviewed = self.store.get(proposal.contract_pdf_sha256)
        assert reviewed is not None
        audit = SignatureAudit(
            signer_name=(audit_data.signer_name if audit_data and audit_data.signer_name else None)
            or f"{proposal.buyer_first_name} {proposal.buyer_last_name}",
            signed_at=data.signed_at,
            reviewed_at=(audit_data.reviewed_at if audit_data else None) or proposal.contract_reviewed_at,
            ip=(audit_data.ip if audit_data else None) or "—",
            user_agent=(audit_data.user_agent if audit_data else None) or "—",
            # Of the very bytes appended: the pages before the audit are the reviewed PDF.
            document_sha256=sha256_hex(reviewed),
            method=METHOD_LABELS.get(method, method),
            identification=identification(method, proposal, audit_data),
            method_key=method,
        )
        proposal.signed_pdf_sha256 = await documents.signed_contract(proposal, dealer, audit, reviewed)
        proposal.signature_method = method
        await session.commit()
        return proposal.signed_pdf_sha256

    @activity.defn(name=ACTIVITY_COMPLETE_SIGNATURE)
    async def complete_signature(self, data: CompleteSignature) -> str:
        """The signed documents, then the signature's emails: one activity, still exactly
        once (the documents are made once, each email is sent once by its key), so a retry
        after a partial failure does only what is left."""
        async with heartbeating(), self.session_factory() as session:
            # One session, the proposal and its dealer held throughout (the identity map keeps
            # only what is referenced): the documents and the emails read them once.
            _held = await proposal_and_dealer(session, data.documents.proposal_id)
            digest = await self._finalize(session, data.documents)
            for email in data.emails:
                await self.email.send_proposal_email_in(session, email)
        return digest

    @activity.defn(name=ACTIVITY_SIGNING_CODE)
    async def send_signing_code(self, data: SigningCodeRequest) -> None:
        code = signing_code_for(self.settings, data.attempt_key)
        async with self.session_factory() as session:
            proposal, dealer = await proposal_and_dealer(session, data.proposal_id)
            row = await session.scalar(select(SigningCode).where(SigningCode.attempt_key == data.attempt_key))
            if row is None:
                session.add(
                    SigningCode(
                        proposal_id=proposal.id,
                        attempt_key=data.attempt_key,
                        code_hash=hash_code(code, data.attempt_key),
                        issued_at=datetime.now(UTC),
                    )
                )
                await session.commit()
            elif row.sent:
                return
            mobile, dealer_name = proposal.buyer_mobile, dealer.name
        text = (
            f"{dealer_name} : votre code de signature est {code}. Il est valable 10 minutes. "
            "Ne le communiquez qu'à votre conseiller, en rendez-vous."
        )
        await self._send_sms(mobile, text, data.attempt_key)
        async with self.session_factory() as session:
            row = await session.scalar(select(SigningCode).where(SigningCode.attempt_key == data.attempt_key))
            assert row is not None
            row.sent = True
            await session.commit()

    async def _send_sms(self, mobile: str, text: str, key: str) -> None:
        if self.settings.sms_provider == "http":
            token = self.settings.sms_http_token.get_secret_value() if self.settings.sms_http_token else None
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            try:
                async with httpx.AsyncClient(timeout=20) as client:
                    response = await client.post(
                        str(self.settings.sms_http_url), json={"to": mobile, "text": text}, headers=headers
                    )
            except httpx.HTTPError as exc:
                raise ApplicationError(
                    f"SMS provider unreachable: {exc} ({key})", type="SmsUnavailable"
                ) from None
            if response.status_code >= 400:
                raise ApplicationError(
                    f"SMS provider answered {response.status_code} ({key})",
                    non_retryable=400 <= response.status_code < 500 and response.status_code != 429,
                    type="SmsRefused",
                )
            return
        await self.email.deliver_once(
            EmailInput(
                idempotency_key=key,
                template="signing_code",
                to=[sms_address(self.settings, mobile)],
                context={"text": text},
            )
        )


def identification(method: str, proposal: Proposal, audit: SignatureAuditData | None) -> str:
    """How the signer was identified, in the audit page's words: only what happened."""
    if method == "sms_code":
        digits = "".join(c for c in proposal.buyer_mobile if c.isdigit())
        return (
            "En rendez-vous chez le distributeur : code à usage unique envoyé par SMS au mobile du "
            f"souscripteur (se terminant par {digits[-2:]}), lu par le souscripteur et saisi par le vendeur "
            "sur son écran."
        )
    if method == "docusign":
        return (
            "Par DocuSign : le signataire a ouvert le lien de signature reçu à son adresse email "
            f"({proposal.buyer_email}) et signé sur la page de DocuSign."
        )
    typed = audit.signer_name if audit and audit.signer_name else "—"
    return (
        f"À distance, sur sa page personnelle (lien reçu à {proposal.buyer_email}) : nom complet saisi "
        f"par le signataire (« {typed} »), avec son adresse IP et son navigateur."
    )


METHOD_LABELS = {
    "local": "Signature électronique simple (nom saisi par le signataire)",
    "sms_code": "Signature en face à face, code à usage unique envoyé par SMS au souscripteur",
    "docusign": "Signature électronique DocuSign",
}
