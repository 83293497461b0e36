"""The buyer's side of a proposal, reached by the unguessable link token (pages and JSON).

Each step asks the workflow (an update with a validator); the database holds what the
buyer gave (bank details encrypted, attestations) and the documents' digests. A step the
proposal is no longer in answers 409 with where it stands, never a half-done write.
"""

from __future__ import annotations

import hmac
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from activities.contract_context import parties_context
from activities.document_templates import conditions_name
from activities.signature import SignatureProvider, signer_for
from api.errors import ApiError
from api.lifecycle_client import ActionPending, EventRefused, ProposalWorkflows, WorkflowGone
from api.proposals.service import client_ip, store_then_fire
from api.proposals.views import lifecycle_of
from carflow.formatting import euros, french_date
from carflow.iban import IbanVault, InvalidIban, mask_iban, normalize_iban
from carflow.links import buyer_page_url
from carflow.settings import Settings
from carflow.tokens import hash_token
from db.documents import DocumentStore
from db.models import Dealer, Proposal, utcnow
from statemachines.proposal import Actor, ProposalMachine
from workflows.proposal_contract import PROPOSAL, EventRequest, ProposalStatus, SignatureAuditData

log = structlog.get_logger(__name__)

UNKNOWN_LINK = (
    "Ce lien ne correspond à aucune proposition. S'il vient de vous être envoyé, réessayez un peu "
    "plus tard (30 minutes, une heure) ou depuis un autre navigateur ; sinon, contactez votre "
    "concessionnaire."
)
EXPIRED = "Délai légal de finalisation dépassé"
# New bank details: the contract to review is rendered again by the worker (prepare_signing).
CONTRACT_TO_RENDER: dict[str, Any] = {"contract_pdf_sha256": None, "contract_reviewed_at": None}
PREPARING_DOCUMENT = "prepare_signing"


def in_preparation(proposal: Proposal, location: str) -> ActionPending:
    """A document the worker is still making: the answer is "en préparation", never an error."""
    return ActionPending(PROPOSAL.name, proposal.id, PREPARING_DOCUMENT, accepted=True, update_id=None).at(
        location
    )


BANK_DETAILS_MISSING = (
    "Les coordonnées bancaires manquent pour signer : revenez à l'étape précédente pour les saisir."
)


def csrf_token(settings: Settings, token: str) -> str:
    """Per-link form token: a cross-site form cannot know it (nor the link)."""
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, f"buyer-form:{token}".encode(), "sha256").hexdigest()


def names_match(typed: str, first_name: str, last_name: str) -> bool:
    def fold(text: str) -> str:
        decomposed = unicodedata.normalize("NFKD", text)
        letters = "".join(c for c in decomposed if not unicodedata.combining(c))
        return " ".join(letters.replace("-", " ").casefold().split())

    return fold(typed) in (fold(f"{first_name} {last_name}"), fold(f"{last_name} {first_name}"))


@dataclass
class AcceptForm:
    cg_accepted: bool
    iban: str
    account_holder: str
    no_claim_since_sent: bool | None


@dataclass
class BuyerService:
    session: AsyncSession
    settings: Settings
    workflows: ProposalWorkflows | None
    store: DocumentStore = field(init=False)
    # What `find` found during this request: a route that acts and then shows the page asks
    # twice, and the second query could only return the same objects.
    _found: dict[str, tuple[Proposal, Dealer]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.store = DocumentStore(self.settings.documents_dir)

    # --- finding and showing -----------------------------------------------------------------

    async def find(self, token: str) -> tuple[Proposal, Dealer]:
        if token in self._found:
            return self._found[token]
        if not token or len(token) > 100:
            raise ApiError(404, "unknown_link", UNKNOWN_LINK)
        proposal = await self.session.scalar(
            select(Proposal).where(Proposal.buyer_token_hash == hash_token(token))
        )
        if proposal is None:
            raise ApiError(404, "unknown_link", UNKNOWN_LINK)
        dealer = await self.session.get(Dealer, proposal.dealer_id)
        assert dealer is not None
        self._found[token] = proposal, dealer
        return proposal, dealer

    def signing_blocked(self, proposal: Proposal) -> bool:
        """Signing on our page needs the bank details of the accept step (kept even when that
        step's update timed out; this guards data lost otherwise). At a provider (DocuSign)
        the envelope decides."""
        return self.settings.signature_provider == "local" and proposal.iban_encrypted is None

    async def lifecycle(self, proposal: Proposal) -> ProposalMachine:
        """The proposal's machine where the read model says it stands: a page load asks no
        workflow (it projects each transition before answering; it is asked only to act)."""
        await self.session.refresh(proposal)
        return lifecycle_of(proposal)

    def view(
        self, proposal: Proposal, dealer: Dealer, where: ProposalMachine | ProposalStatus
    ) -> dict[str, Any]:
        machine = where if isinstance(where, ProposalMachine) else lifecycle_of(where)
        actions = machine.allowed(now=utcnow(), actor=Actor.BUYER)
        message = EXPIRED if machine.expired.is_active else None
        if "sign" in actions and self.signing_blocked(proposal):
            # Signing cannot finish without bank details: never show a step the buyer cannot
            # take; `abandon` (which the machine allows here) takes them back to the form.
            actions = [a for a in actions if a != "sign"]
            message = BANK_DETAILS_MISSING
        return {
            "state": machine.state,
            "message": message,
            "contract_number": proposal.contract_number,
            "product": {
                "label": proposal.product_label,
                "kind": proposal.product_kind,
                "price": euros(proposal.price_cents, always_cents=True),
                "duration_months": proposal.duration_months,
            },
            "vehicle": f"{proposal.vehicle_make} {proposal.vehicle_model} ({proposal.vehicle_registration})",
            **parties_context(proposal, dealer),
            "valid_until": french_date(proposal.expires_at),
            "expires_at": proposal.expires_at,
            "withdrawal_deadline": proposal.withdrawal_deadline,
            "withdrawal_until": french_date(proposal.withdrawal_deadline),
            "iban_masked": proposal.iban_masked,
            "declined_for_claim": proposal.claim_declared_at is not None,
            "actions": actions,
            "documents": {
                "conditions": True,
                "contract": machine.contract_reviewable(),
                # The worker renders it when signing starts: until then, "en préparation".
                "contract_ready": proposal.contract_pdf_sha256 is not None,
                "signed_contract": proposal.signed_pdf_sha256 is not None,
            },
        }

    async def open(self, token: str) -> tuple[Proposal, Dealer, dict[str, Any]]:
        """Opening the link is the `view` event, counted each time the proposal can be viewed."""
        proposal, dealer = await self.find(token)
        machine = lifecycle_of(proposal)  # just read: no refresh
        if machine.can("view", now=utcnow(), actor=Actor.BUYER):
            try:
                machine = lifecycle_of(await self._fire(proposal, "view", EventRequest(actor="buyer")))
            except (EventRefused, ActionPending):
                # Moved on meanwhile (expired a second ago), or the workflow is slow to count
                # the view (it will): the page shows where the proposal stands.
                machine = await self.lifecycle(proposal)
            except ApiError as err:
                if err.status_code != 503:
                    raise
                # Temporal is down: this opening goes uncounted, but the buyer reads their
                # proposal (the read model) instead of an error.
                log.warning("view_not_counted", proposal_id=str(proposal.id), code=err.code)
                machine = await self.lifecycle(proposal)
        # The page's facts are the row's (a view changes none of them but its count), its
        # state and actions the machine's: no reading the row again.
        return proposal, dealer, self.view(proposal, dealer, machine)

    # --- steps ---------------------------------------------------------------------------------

    async def accept(self, token: str, form: AcceptForm) -> tuple[Proposal, ProposalStatus]:
        proposal, _ = await self.find(token)
        errors: list[dict[str, str]] = []
        if not form.cg_accepted:
            errors.append(
                {"field": "cg_accepted", "message": "Vous devez accepter les conditions générales."}
            )
        iban = ""
        try:
            iban = normalize_iban(form.iban)
        except InvalidIban as exc:
            errors.append({"field": "iban", "message": str(exc)})
        holder = " ".join(form.account_holder.split())
        if not 2 <= len(holder) <= 200:
            errors.append({"field": "account_holder", "message": "Indiquez le titulaire du compte."})
        if form.no_claim_since_sent is None:
            errors.append(
                {
                    "field": "no_claim_since_sent",
                    "message": "Indiquez si un sinistre est survenu depuis l'envoi de la proposition.",
                }
            )
        if form.no_claim_since_sent is False:
            # A claim since sending: the proposal cannot go on; the dealer takes it from here.
            return proposal, await store_then_fire(
                self.session,
                proposal,
                {"claim_declared_at": datetime.now(UTC)},
                lambda: self._fire(proposal, "decline", EventRequest(actor="buyer", reason="claim")),
            )
        if errors:
            raise ApiError(
                422,
                "validation_error",
                "Invalid request: " + "; ".join(e["message"] for e in errors),
                fields=errors,
            )
        now = datetime.now(UTC)
        bank_details = {
            "iban_encrypted": IbanVault(self.settings).encrypt(iban),
            "iban_masked": mask_iban(iban),
            "account_holder": holder,
            "conditions_accepted_at": now,
            "no_claim_attested_at": now,
            **CONTRACT_TO_RENDER,
        }
        status: ProposalStatus = await store_then_fire(
            self.session,
            proposal,
            bank_details,
            lambda: self._fire(
                proposal,
                "accept",
                EventRequest(actor="buyer", signature_provider=self.settings.signature_provider),
            ),
        )
        return proposal, status

    async def contract_pdf(self, token: str) -> bytes:
        """The contract as the buyer reviews it before signing: the bytes the worker stored
        when signing started (never rendered here); their digest goes in the audit."""
        proposal, _ = await self.find(token)
        pdf = self.store.get(proposal.contract_pdf_sha256) if proposal.contract_pdf_sha256 else None
        if pdf is None:
            raise in_preparation(proposal, f"/p/{token}/contract.pdf")
        # The copy reviewed just before signing is the one the signature's audit names.
        if lifecycle_of(proposal).can("sign", now=utcnow(), actor=Actor.BUYER):
            proposal.contract_reviewed_at = datetime.now(UTC)
            await self.session.commit()
        return pdf

    async def sign(self, token: str, full_name: str, request: Request) -> tuple[Proposal, ProposalStatus]:
        proposal, dealer = await self.find(token)
        if self.settings.signature_provider != "local":
            raise ApiError(
                409, "use_provider", "La signature se fait sur la page du prestataire de signature."
            )
        if not names_match(full_name, proposal.buyer_first_name, proposal.buyer_last_name):
            raise ApiError(
                422,
                "validation_error",
                "Invalid request: full_name: saisissez vos prénom et nom tels qu'ils figurent au contrat.",
                fields=[{"field": "full_name", "message": "Le nom saisi ne correspond pas au souscripteur."}],
            )
        machine = lifecycle_of(proposal)
        can_sign = machine.can("sign", now=utcnow(), actor=Actor.BUYER)
        if can_sign and self.signing_blocked(proposal):
            raise ApiError(
                409,
                "bank_details_missing",
                BANK_DETAILS_MISSING,
                state=machine.state,
                allowed_events=self.view(proposal, dealer, machine)["actions"],
            )
        if can_sign and proposal.contract_pdf_sha256 is None:
            # The buyer signs the bytes they could review: not before the worker made them.
            raise in_preparation(proposal, f"/p/{token}")
        audit = SignatureAuditData(
            method="local",
            signer_name=" ".join(full_name.split()),
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent", "")[:300],
            reviewed_at=proposal.contract_reviewed_at,
            document_sha256=proposal.contract_pdf_sha256,
        )
        return proposal, await self._fire(proposal, "sign", EventRequest(actor="buyer", audit=audit))

    async def provider_signing_url(self, token: str, provider: SignatureProvider) -> str | None:
        """A fresh embedded-signing URL (single-use, short-lived), or None while the envelope
        is still being prepared."""
        proposal, _ = await self.find(token)
        # The envelope of the current attempt is the workflow's to know: asking for a signing
        # URL is acting, not reading.
        status = await self.workflows.status(proposal.id) if self.workflows else None
        if status is None or not lifecycle_of(status).can("sign", now=utcnow(), actor=Actor.BUYER):
            raise ApiError(409, "not_signing", "La signature n'est pas ouverte pour cette proposition.")
        if not status.envelope_id:
            return None
        return await provider.signing_url(
            status.envelope_id, signer_for(proposal), buyer_page_url(self.settings, token)
        )

    async def simple(self, token: str, event: str) -> tuple[Proposal, ProposalStatus]:
        proposal, _ = await self.find(token)
        return proposal, await self._fire(proposal, event, EventRequest(actor="buyer"))

    def document(self, proposal: Proposal, name: str, token: str) -> bytes | None:
        digests = {"signed": proposal.signed_pdf_sha256, "conditions": proposal.conditions_pdf_sha256}
        digest = digests.get(name)
        if name == "conditions" and digest is None:
            # Before signing: the current version of the kind's conditions, rendered once by
            # the worker for every proposal.
            digest = self.store.name(conditions_name(proposal.product_kind))
            if digest is None:
                raise in_preparation(proposal, f"/p/{token}/documents/conditions.pdf")
        return self.store.get(digest) if digest else None

    async def _fire(self, proposal: Proposal, event: str, request: EventRequest) -> ProposalStatus:
        if self.workflows is None:
            raise ApiError(503, "temporal_unavailable", "Service momentanément indisponible, réessayez.")
        try:
            return await self.workflows.fire(proposal.id, event, request, version=proposal.state_version)
        except WorkflowGone:
            await self.session.refresh(proposal)
            machine = lifecycle_of(proposal)
            raise EventRefused(PROPOSAL, event, machine.state, machine.allowed(now=utcnow())) from None
