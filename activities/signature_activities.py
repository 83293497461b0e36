"""The Temporal activities that prepare signing (the providers are in activities/signature.py).

Kept apart from the providers: the API uses those, and must not load the PDF renderer.
Activities take ids, never document bytes or personal data (they would live in the
workflow's history): the PDF is read from the content-addressed DocumentStore and the signer
from the proposal row.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contract_documents import ContractDocuments
from activities.database import proposal_and_dealer
from activities.documents import DocumentRenderer
from activities.heartbeat import heartbeating
from activities.signature import (
    ACTIVITY_CREATE_ENVELOPE,
    ERROR_PROVIDER_REFUSED,
    ERROR_PROVIDER_UNAVAILABLE,
    EnvelopeRequest,
    SignatureProvider,
    SignatureProviderError,
    signer_for,
)
from carflow.settings import Settings
from db.documents import DocumentStore
from workflows.proposal_contract import (
    ACTIVITY_PREPARE_SIGNING,
    ACTIVITY_VOID_ENVELOPE,
    CreateEnvelopeInput,
    PrepareSigning,
    VoidEnvelopeInput,
    proposal_workflow_id,
)


class SignatureActivities:
    def __init__(
        self,
        settings: Settings,
        provider: SignatureProvider,
        session_factory: async_sessionmaker[AsyncSession],
        store: DocumentStore | None = None,
        renderer: DocumentRenderer | None = None,
    ) -> None:
        self.settings = settings
        self.provider = provider
        self.session_factory = session_factory
        self.store = store or DocumentStore(settings.documents_dir)
        self.documents = ContractDocuments(renderer or DocumentRenderer(), self.store)

    @activity.defn(name=ACTIVITY_PREPARE_SIGNING)
    async def prepare_signing(self, data: PrepareSigning) -> str | None:
        """Signing starts: render the contract to review (once; the API serves the stored
        bytes), make sure the general conditions are stored, and when signing is remote at a
        provider, create its envelope with those bytes. Returns the envelope id, if any.
        Idempotent: a retry finds the stored contract and the provider's envelope."""
        async with heartbeating():
            async with self.session_factory() as session:
                proposal, dealer = await proposal_and_dealer(session, data.proposal_id)
                if await self.documents.prepare(proposal, dealer, in_person=data.in_person):
                    await session.commit()
                assert proposal.contract_pdf_sha256 is not None
                if data.in_person or not self.provider.remote:
                    return None
                document = self.store.get(proposal.contract_pdf_sha256)
                assert document is not None  # prepare() stored it
                request = EnvelopeRequest(
                    proposal_id=data.proposal_id,
                    contract_number=proposal.contract_number,
                    document=document,
                    signer=signer_for(proposal),
                )
            return await self._create_envelope(request)

    @activity.defn(name=ACTIVITY_CREATE_ENVELOPE)
    async def create_signature_envelope(self, data: CreateEnvelopeInput) -> str:
        """Create (or find again) the proposal's envelope; returns its id. Idempotent.
        Workflows that started signing before `prepare_signing` still call it."""
        async with heartbeating():
            where = proposal_workflow_id(data.proposal_id)
            if not self.provider.remote:
                return f"local-{data.proposal_id}"  # signing happens on our page: nothing to prepare
            async with self.session_factory() as session:
                proposal, dealer = await proposal_and_dealer(session, data.proposal_id)
                digest = data.document_sha256 or proposal.contract_pdf_sha256
                document = self.store.get(digest) if digest else None
                if document is None and data.document_sha256:
                    raise ApplicationError(
                        f"contract PDF {data.document_sha256} is not in the document store ({where})",
                        non_retryable=True,
                        type="NoSuchDocument",
                    )
                if document is None:
                    proposal.contract_pdf_sha256 = await self.documents.reviewed_contract(
                        proposal, dealer, in_person=False
                    )
                    await session.commit()
                    document = self.store.get(proposal.contract_pdf_sha256)
                    assert document is not None
                request = EnvelopeRequest(
                    proposal_id=data.proposal_id,
                    contract_number=proposal.contract_number,
                    document=document,
                    signer=signer_for(proposal),
                )
            return await self._create_envelope(request)

    async def _create_envelope(self, request: EnvelopeRequest) -> str:
        where = proposal_workflow_id(request.proposal_id)
        try:
            envelope_id = await self.provider.create_envelope(request)
        except SignatureProviderError as exc:
            raise _activity_error(exc, where) from None
        activity.logger.info("signature envelope %s ready for %s", envelope_id, where)
        return envelope_id

    @activity.defn(name=ACTIVITY_VOID_ENVELOPE)
    async def void_signature_envelope(self, data: VoidEnvelopeInput) -> bool:
        """Void the envelope of a proposal that ended (cancelled, replaced, expired), so its
        signing link stops working at the provider too. Idempotent: voiding twice is a no-op."""
        if data.envelope_id.startswith("local-"):
            return False
        try:
            voided = await self.provider.void_envelope(data.envelope_id, data.reason)
        except SignatureProviderError as exc:
            raise _activity_error(exc, proposal_workflow_id(data.proposal_id)) from None
        activity.logger.info("envelope %s voided: %s (%s)", data.envelope_id, voided, data.reason)
        return voided


def _activity_error(exc: SignatureProviderError, where: str) -> ApplicationError:
    """The provider's failure as the workflow sees it: retried, or refused for good."""
    return ApplicationError(
        f"{exc.message} ({where})",
        non_retryable=not exc.retryable,
        type=ERROR_PROVIDER_UNAVAILABLE if exc.retryable else ERROR_PROVIDER_REFUSED,
    )
