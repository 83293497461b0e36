"""E-signature providers behind one interface, and the Temporal activity that prepares signing.

* `local` (default): simple electronic signature on our own buyer page (`/p/{token}`): the
  buyer reviews the contract PDF and types their full name. There is no envelope at a third
  party: `create_envelope` returns a local handle and `signing_url` the return URL, which is
  that page.
* `docusign`: an envelope with our contract PDF, one embedded signer, and a recipient view
  (embedded signing URL) made fresh for every click on "Signer": DocuSign's URLs are
  single-use and expire within minutes. DocuSign redirects the buyer back to `return_url`
  with `?event=signing_complete|decline|...`, a hint only; the proof is the Connect webhook
  (api/buyer/webhook.py) that signals the workflow.

Envelope ids are not stored in the database: an envelope carries the proposal id as a custom
field (Connect sends it back), and `find_envelope` finds a proposal's signable envelope.

Activities take ids, never document bytes or personal data (they would live in the
workflow's history): the PDF is read from the content-addressed DocumentStore and the signer
from the proposal row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ParamSpec, Protocol, TypeVar

from carflow.settings import Settings
from db.documents import sha256_hex
from db.models import Proposal

if TYPE_CHECKING:
    from activities.docusign_client import DocuSignClient

P = ParamSpec("P")
T = TypeVar("T")

ACTIVITY_CREATE_ENVELOPE = "create_signature_envelope"
# Error types of the activity's ApplicationErrors (for the workflow's retry policy).
ERROR_PROVIDER_REFUSED = "SignatureProviderRefused"  # non-retryable: bad data, consent, keys
ERROR_PROVIDER_UNAVAILABLE = "SignatureProviderUnavailable"  # retryable: 5xx, 429, network


@dataclass(frozen=True)
class Signer:
    name: str
    email: str
    # Ties the recipient to our embedded signing session (DocuSign `clientUserId`): the
    # recipient view must name the same one. We use the proposal id: stable, not personal.
    client_user_id: str


@dataclass(frozen=True)
class EnvelopeRequest:
    proposal_id: str
    contract_number: str
    document: bytes  # the contract PDF the buyer reviewed
    signer: Signer

    @property
    def document_sha256(self) -> str:
        return sha256_hex(self.document)


class SignatureProviderError(Exception):
    """The provider refused (`retryable=False`) or could not be reached (`retryable=True`)."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status = status


class SignatureProvider(Protocol):
    name: str
    # Whether signing happens at a third party (an envelope to create, a URL to send the
    # buyer to) or on our own buyer page.
    remote: bool

    async def create_envelope(self, request: EnvelopeRequest) -> str:
        """Make the document signable by `request.signer`; returns the envelope id.
        Idempotent for the same proposal and document."""
        ...

    async def signing_url(self, envelope_id: str, signer: Signer, return_url: str) -> str:
        """Where to send the buyer to sign now; call it at each click (single-use URLs)."""
        ...

    async def find_envelope(self, proposal_id: str, document_sha256: str | None = None) -> str | None:
        """The proposal's envelope that can still be signed, if any."""
        ...

    async def void_envelope(self, envelope_id: str, reason: str) -> bool:
        """Make an envelope unsignable (its proposal was cancelled, replaced or expired);
        False when it was finished already. Idempotent."""
        ...

    async def envelope_proposal_id(self, envelope_id: str) -> str | None:
        """The proposal an envelope belongs to (its `proposal_id` custom field)."""
        ...


def signer_for(proposal: Proposal) -> Signer:
    return Signer(
        name=f"{proposal.buyer_first_name} {proposal.buyer_last_name}",
        email=proposal.buyer_email,
        client_user_id=str(proposal.id),
    )


class LocalProvider:
    """Simple electronic signature on our own buyer page: nothing to create elsewhere."""

    name = "local"
    remote = False

    async def create_envelope(self, request: EnvelopeRequest) -> str:
        return f"local-{request.proposal_id}"

    async def signing_url(self, envelope_id: str, signer: Signer, return_url: str) -> str:
        # The local signing form is the buyer page itself (typed full name, POST /p/{token}/sign).
        return return_url

    async def find_envelope(self, proposal_id: str, document_sha256: str | None = None) -> str | None:
        return None

    async def void_envelope(self, envelope_id: str, reason: str) -> bool:
        return False  # nothing was sent elsewhere

    async def envelope_proposal_id(self, envelope_id: str) -> str | None:
        prefix = "local-"
        return envelope_id.removeprefix(prefix) if envelope_id.startswith(prefix) else None


class DocuSignProvider:
    """DocuSign eSignature: JWT grant, envelope from our PDF, embedded signing."""

    name = "docusign"
    remote = True

    def __init__(self, client: DocuSignClient) -> None:
        self.client = client

    @classmethod
    def from_settings(cls, settings: Settings) -> DocuSignProvider:
        from activities.docusign_client import DocuSignClient, DocuSignConfig, oauth_host_name, pem_bytes

        if settings.docusign_private_key is not None:
            private_key = pem_bytes(settings.docusign_private_key.get_secret_value())
        elif settings.docusign_private_key_path is not None:
            private_key = settings.docusign_private_key_path.read_bytes()
        else:  # Settings refuses to start like this
            raise ValueError("CARFLOW_DOCUSIGN_PRIVATE_KEY_PATH or CARFLOW_DOCUSIGN_PRIVATE_KEY must be set")
        config = DocuSignConfig(
            integration_key=settings.docusign_integration_key or "",
            user_id=settings.docusign_user_id or "",
            account_id=settings.docusign_account_id or "",
            private_key=private_key,
            oauth_host=oauth_host_name(settings.docusign_oauth_host),
            base_path=settings.docusign_base_path.rstrip("/"),
            ca_cert=str(settings.docusign_ca_cert) if settings.docusign_ca_cert else None,
            consent_redirect_uri=settings.public_url,
        )
        return cls(DocuSignClient(config))

    async def _run(self, call: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a blocking SDK call in a thread; its DocuSignError becomes ours."""
        from activities.docusign_client import DocuSignError

        try:
            return await asyncio.to_thread(call, *args, **kwargs)
        except DocuSignError as exc:
            raise SignatureProviderError(exc.message, retryable=exc.retryable, status=exc.status) from None

    async def create_envelope(self, request: EnvelopeRequest) -> str:
        return await self._run(
            self.client.create_envelope,
            proposal_id=request.proposal_id,
            contract_number=request.contract_number,
            document=request.document,
            document_sha256=request.document_sha256,
            signer_name=request.signer.name,
            signer_email=request.signer.email,
            client_user_id=request.signer.client_user_id,
            subject=f"Contrat {request.contract_number} à signer",
        )

    async def signing_url(self, envelope_id: str, signer: Signer, return_url: str) -> str:
        return await self._run(
            self.client.recipient_view,
            envelope_id,
            signer_name=signer.name,
            signer_email=signer.email,
            client_user_id=signer.client_user_id,
            return_url=return_url,
        )

    async def find_envelope(self, proposal_id: str, document_sha256: str | None = None) -> str | None:
        return await self._run(self.client.find_by_proposal, proposal_id, document_sha256)

    async def void_envelope(self, envelope_id: str, reason: str) -> bool:
        return await self._run(self.client.void_envelope, envelope_id, reason)

    async def envelope_proposal_id(self, envelope_id: str) -> str | None:
        from activities.docusign_client import FIELD_PROPOSAL_ID

        fields = await self._run(self.client.envelope_fields, envelope_id)
        return fields.get(FIELD_PROPOSAL_ID)


def build_provider(settings: Settings) -> SignatureProvider:
    if settings.signature_provider == "docusign":
        return DocuSignProvider.from_settings(settings)
    return LocalProvider()
