"""The proposal workflow's contract, shared by the API and the worker.

Update names are the machine's event names, so the API fires an event with
`handle.execute_update(event, EventRequest(...), result_type=ProposalStatus)`.
A refused event fails the update with an ApplicationError of type `TransitionNotAllowed`
whose first detail is `{"state": ..., "allowed_events": [...], "reason": ..., "code": ...}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from temporalio.common import SearchAttributePair, TypedSearchAttributes

from statemachines.proposal import USER_EVENTS, ProposalMachine, ProposalState, ProposalTimeline
from workflows.contract import (
    QUERY_STATUS,
    REFUSED_ERROR_TYPE,
    SIGNAL_RETRY_EMAILS,
    LifecycleKind,
    LifecycleProjection,
    LifecycleStatus,
)
from workflows.search_attributes import CONTRACT_NUMBER, DEALER_ID, EMAIL_FAILED, PROPOSAL_STATE

__all__ = ["QUERY_STATUS", "REFUSED_ERROR_TYPE", "SIGNAL_RETRY_EMAILS", "USER_EVENTS"]

WORKFLOW_TYPE = "ProposalWorkflow"


@dataclass
class ProposalStart:
    proposal_id: str
    dealer_id: str
    contract_number: str
    kind: str  # service | insurance: picks the withdrawal window
    saved_at: datetime
    summary: str  # buyer, vehicle, dealer: shown in the Temporal UI
    send_now: bool = False
    # Reminders to an unsigned buyer (settings; None: off), behind PATCH_REMINDERS.
    remind_after_sent_days: int | None = None
    remind_before_expiry_days: int | None = None

    def search_attributes(self) -> TypedSearchAttributes:
        """Searchable from the first second; the workflow keeps them current."""
        return TypedSearchAttributes(
            [
                SearchAttributePair(PROPOSAL_STATE, ProposalState.DRAFT.value),
                SearchAttributePair(DEALER_ID, self.dealer_id),
                SearchAttributePair(CONTRACT_NUMBER, self.contract_number),
                SearchAttributePair(EMAIL_FAILED, False),
            ]
        )


@dataclass
class SignatureAuditData:
    """Evidence of a signature, kept in history as the signature's record (DESIGN §6)."""

    method: str  # local | sms_code | docusign
    signer_name: str
    ip: str | None = None
    user_agent: str | None = None
    reviewed_at: datetime | None = None
    document_sha256: str | None = None


@dataclass
class EventRequest:
    actor: str = "dealer"  # dealer | buyer | staff
    # resend: the buyer's email changed, so the proposal email goes to the new address.
    reason: str | None = None
    # sign: the evidence of the signature (who, how, from where, which document).
    audit: SignatureAuditData | None = None
    # accept: the signature provider the buyer will sign with ("local": on our page, nothing
    # to create elsewhere). None (requests from before it was said): one may be involved.
    signature_provider: str | None = None


@dataclass
class ProposalStatus(LifecycleStatus):
    proposal_id: str
    expires_at: datetime
    first_sent_at: datetime | None = None
    signed_at: datetime | None = None
    withdrawal_deadline: datetime | None = None
    sent_count: int = 0
    view_count: int = 0
    # The e-signature provider's envelope of the current signing attempt (remote signing).
    envelope_id: str | None = None


PROPOSAL = LifecycleKind(
    name="proposal",
    workflow_type=WORKFLOW_TYPE,
    machine=ProposalMachine,
    state_attribute=PROPOSAL_STATE,
    status_type=ProposalStatus,
)
proposal_workflow_id = PROPOSAL.workflow_id
proposal_id_from_workflow_id = PROPOSAL.target_id


# --- Activities the workflow calls (inputs are plain dataclasses: no personal data in
# history; the activities read names and addresses from the database).

ACTIVITY_PROJECT = "project_proposal"
ACTIVITY_EMAIL = "send_proposal_email"


@dataclass
class ProposalProjection(ProposalTimeline, LifecycleProjection):
    """The workflow's state as the read model stores it: the lifecycle's and the timeline's."""

    proposal_id: str
    expires_at: datetime


@dataclass
class ProposalEmail:
    proposal_id: str
    template: str  # proposal_sent | proposal_expired | withdrawal_confirmed
    recipient: str  # buyer | dealer
    idempotency_key: str


# --- Signing (issue 5) -------------------------------------------------------------------

# E-signature provider callbacks (DocuSign Connect) are signals: the webhook answers at
# once and a replayed callback is harmless (the workflow ignores an event that no longer
# applies).
SIGNAL_PROVIDER_EVENT = "signature_provider_event"


@dataclass
class ProviderEvent:
    provider: str  # docusign
    envelope_id: str
    outcome: str  # completed | declined | voided
    received_at: datetime | None = None


ACTIVITY_FINALIZE_SIGNATURE = "finalize_signature"
ACTIVITY_CREATE_ENVELOPE = "create_signature_envelope"
# The e-signature envelope created when remote signing starts (`accept`).
PATCH_SIGNATURE_ENVELOPE = "signature-envelope-v1"
ACTIVITY_SIGNING_CODE = "send_signing_code"
# workflow.patched() id of the signing side effects (documents, signing emails, SMS code):
# histories recorded before it replay without them.
PATCH_SIGNING_EFFECTS = "signing-effects-v1"
# Reminders before expiry: timers that did not exist when older workflows started.
PATCH_REMINDERS = "reminders-v1"


@dataclass
class FinalizeSignature:
    proposal_id: str
    signed_at: datetime
    audit: SignatureAuditData | None = None


@dataclass
class SigningCodeRequest:
    proposal_id: str
    attempt_key: str  # unique per code sent; the code is derived from it with the secret key


ACTIVITY_VOID_ENVELOPE = "void_signature_envelope"
# workflow.patched() id of the loose ends of issue 15: the envelope of a proposal that ends
# (cancelled, replaced, expired) is voided; a resend drops the earlier, unsent proposal mail
# it supersedes (an address correction), so the buyer does not get it twice.
PATCH_LOOSE_ENDS = "loose-ends-v1"


@dataclass
class VoidEnvelopeInput:
    proposal_id: str
    envelope_id: str
    reason: str


@dataclass
class CreateEnvelopeInput:
    proposal_id: str
    # SHA-256 of the contract PDF (in the DocumentStore) to sign; None: the one the buyer
    # reviewed (`contract_pdf_sha256`), rendered and stored now if they have not opened it.
    document_sha256: str | None = None


# --- Documents off the hot path (issue 11) ------------------------------------------------

ACTIVITY_PREPARE_SIGNING = "prepare_signing"
# workflow.patched() id: signing starts with `prepare_signing` (the reviewed contract rendered
# in the worker, and the provider's envelope when signing is remote), instead of the
# envelope activity alone; histories recorded before it replay the old way.
PATCH_REVIEWED_PDF = "reviewed-pdf-v1"


@dataclass
class PrepareSigning:
    proposal_id: str
    in_person: bool = False  # face to face at the dealer's: no envelope, the SMS code signs


# The signature's effects in one activity (lean histories): the signed documents, then the
# buyer's two emails and the dealer's notice, each email sent once by its own key.
ACTIVITY_COMPLETE_SIGNATURE = "complete_signature"


@dataclass
class CompleteSignature:
    documents: FinalizeSignature
    emails: list[ProposalEmail]
