"""ProposalWorkflow: one warranty/maintenance proposal, from draft to a binding contract.

The machine (statemachines/proposal.py) decides what is legal, by whom and until when; the
lifecycle engine (workflows/lifecycle.py) runs it. This module supplies what is a
proposal's own: its inputs and status, the side effects each event queues (the buyer's
and dealer's emails, the signed documents, the SMS code, the e-signature envelope), how
each is performed, the e-signature provider's callback, and what is projected and shown.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from carflow.records import fields_of
    from statemachines.proposal import (
        Actor,
        ProposalEvent,
        ProposalMachine,
        ProposalTimeline,
        TransitionNotAllowed,
        new_proposal,
    )
    from workflows.proposal_contract import (
        ACTIVITY_COMPLETE_SIGNATURE,
        ACTIVITY_CREATE_ENVELOPE,
        ACTIVITY_EMAIL,
        ACTIVITY_FINALIZE_SIGNATURE,
        ACTIVITY_PREPARE_SIGNING,
        ACTIVITY_PROJECT,
        ACTIVITY_SIGNING_CODE,
        ACTIVITY_VOID_ENVELOPE,
        PATCH_LOOSE_ENDS,
        PATCH_REMINDERS,
        PATCH_REVIEWED_PDF,
        PATCH_SIGNATURE_ENVELOPE,
        PATCH_SIGNING_EFFECTS,
        SIGNAL_PROVIDER_EVENT,
        WORKFLOW_TYPE,
        CompleteSignature,
        CreateEnvelopeInput,
        EventRequest,
        FinalizeSignature,
        PrepareSigning,
        ProposalEmail,
        ProposalProjection,
        ProposalStart,
        ProposalStatus,
        ProviderEvent,
        SignatureAuditData,
        SigningCodeRequest,
        VoidEnvelopeInput,
        proposal_workflow_id,
    )
    from workflows.search_attributes import CONTRACT_NUMBER, DEALER_ID, EMAIL_FAILED, PROPOSAL_STATE

from workflows.lifecycle import HEARTBEAT_TIMEOUT, Effect, LifecycleWorkflow, effect_retry, lifecycle_update

EMAIL_RETRY = effect_retry("BadEmail", "NoSuchProposal")
ENVELOPE_RETRY = effect_retry("SignatureProviderRefused", "NoSuchProposal", "NoSuchDocument")
DOCUMENTS_TIMEOUT = timedelta(minutes=2)
# The contract to review as a local activity (it falls back to WeasyPrint for text the
# direct layout cannot write: still well under this).
LOCAL_PREPARE_TIMEOUT = timedelta(minutes=1)
# Emails each event sends: (template, recipient).
EMAILS_ON_EVENT: dict[str, tuple[str, str]] = {
    ProposalEvent.SEND_TO_BUYER: ("proposal_sent", "buyer"),
    ProposalEvent.RESEND: ("proposal_sent", "buyer"),
    ProposalEvent.EXPIRE: ("proposal_expired", "dealer"),
    ProposalEvent.WITHDRAW: ("withdrawal_confirmed", "buyer"),
    ProposalEvent.REMIND: ("proposal_reminder", "buyer"),
}
# Side effects of signing, in order, behind PATCH_SIGNING_EFFECTS: the documents first (the
# buyer's email attaches them), then the buyer's and the dealer's emails. `start_in_person`
# sends the SMS code.
SIGNING_EFFECTS: dict[str, list[tuple[str, str]]] = {
    ProposalEvent.SIGN: [
        ("finalize_signature", "system"),
        ("contract_signed", "buyer"),
        ("welcome", "buyer"),
        ("dealer_sale_notice", "dealer"),
    ],
    ProposalEvent.START_IN_PERSON: [("signing_code", "buyer_sms")],
}

# Signing starts (behind PATCH_REVIEWED_PDF): the worker renders the contract to review and,
# remotely at a provider, creates the envelope. The effect's recipient says how it is signed.
PREPARES_SIGNING: dict[str, str] = {
    ProposalEvent.ACCEPT: "remote",
    ProposalEvent.START_IN_PERSON: "in_person",
}


def _update(event: str) -> Any:
    return lifecycle_update(event, EventRequest, ProposalStatus)


@workflow.defn(name=WORKFLOW_TYPE, failure_exception_types=[TransitionNotAllowed])
class ProposalWorkflow(LifecycleWorkflow[ProposalMachine, ProposalStatus]):
    projection_activity = ACTIVITY_PROJECT

    @workflow.init
    def __init__(self, start: ProposalStart) -> None:
        super().__init__(new_proposal(start.kind, start.saved_at))
        self.start = start
        self.signature_audit: SignatureAuditData | None = None
        self.envelope_id: str | None = None
        # The last accept said the buyer signs on our page: no provider to call to prepare.
        self.signs_on_page = False

    @workflow.run
    async def run(self, start: ProposalStart) -> ProposalStatus:
        # Workflows started before reminders existed replay without their timers. A lean run
        # has them without asking (its marker is the run's first command either way; one
        # marker less in its history).
        if self._lean() or workflow.patched(PATCH_REMINDERS):
            model = self.machine.model
            if start.remind_after_sent_days:
                model.remind_after_sent = timedelta(days=start.remind_after_sent_days)
            if start.remind_before_expiry_days:
                model.remind_before_expiry = timedelta(days=start.remind_before_expiry_days)
        await self._live()
        return self._status()

    async def _begin(self) -> None:
        if self.start.send_now:
            async with self.lock:
                self._fire(ProposalEvent.SEND_TO_BUYER)
                await self._project()

    # --- user events: updates with validators (the machine says who, when) ---------------

    send_to_buyer = _update(ProposalEvent.SEND_TO_BUYER)
    resend = _update(ProposalEvent.RESEND)
    view = _update(ProposalEvent.VIEW)
    accept = _update(ProposalEvent.ACCEPT)
    start_in_person = _update(ProposalEvent.START_IN_PERSON)
    sign = _update(ProposalEvent.SIGN)
    abandon = _update(ProposalEvent.ABANDON)
    withdraw = _update(ProposalEvent.WITHDRAW)
    decline = _update(ProposalEvent.DECLINE)
    cancel = _update(ProposalEvent.CANCEL)

    def _apply(self, event: str, request: Any) -> bool:
        if event == ProposalEvent.SIGN:
            self.signature_audit = request.audit
        if event == ProposalEvent.ACCEPT:
            self.signs_on_page = request.signature_provider == "local"
        self._fire(event)
        return True

    def _answer_awaits(self, event: str) -> list[Effect]:
        # Signing starts: the answer comes with the contract to review made (or the envelope
        # created), so the buyer's next page shows it instead of "en préparation" and a
        # refresh. Past the API's bound the answer is pending, as for any slow update.
        if event in PREPARES_SIGNING:
            return [e for e in self.effects if e.kind == "prepare_signing"][-1:]
        return []

    @workflow.signal(name=SIGNAL_PROVIDER_EVENT)
    async def provider_event(self, event: ProviderEvent) -> None:
        """E-signature callback: completed signs, declined/voided abandons signing.

        A callback that no longer applies (replayed, or the proposal moved on) is ignored.
        """
        name = ProposalEvent.SIGN if event.outcome == "completed" else ProposalEvent.ABANDON
        if self.envelope_id is not None and event.envelope_id != self.envelope_id:
            workflow.logger.info(
                "ignored %s callback of an earlier envelope %s", event.outcome, event.envelope_id
            )
            return
        async with self.lock:
            if self.machine.refusal(name, now=workflow.now(), actor=Actor.PROVIDER) is not None:
                workflow.logger.info("ignored %s callback in state %s", event.outcome, self.state)
                return
            if name == ProposalEvent.SIGN:
                self.signature_audit = SignatureAuditData(
                    method=event.provider, signer_name="", user_agent=f"enveloppe {event.envelope_id}"
                )
            self._fire(name)
            await self._project()

    # --- side effects -----------------------------------------------------------------------

    def _effect(self, kind: str, suffix: str, recipient: str) -> Effect:
        return Effect(kind, f"{proposal_workflow_id(self.start.proposal_id)}:{kind}:{suffix}", recipient)

    def _queue_effects(self, event: str) -> None:
        # The order of the `workflow.patched` calls and of the uuid4 draws is part of the
        # recorded histories: keep it.
        # A lean run (PATCH_LEAN_LIFECYCLE) has every later behaviour without asking the older
        # patches: each patch id costs a marker and a search-attribute upsert in history.
        lean = self._lean()
        if event in SIGNING_EFFECTS and (lean or workflow.patched(PATCH_SIGNING_EFFECTS)):
            effects = SIGNING_EFFECTS[event]
            if event == ProposalEvent.SIGN and lean:
                # The documents, then the three emails, in one activity (each email sent
                # once by its own key, the same keys as one by one).
                effects = [("complete_signature", "buyer, dealer")]
            for kind, recipient in effects:
                # A fresh key per SMS code (a new code each time signing starts in person).
                suffix = str(workflow.uuid4()) if kind == "signing_code" else "1"
                self.effects.append(self._effect(kind, suffix, recipient))
        if event in PREPARES_SIGNING and (lean or workflow.patched(PATCH_REVIEWED_PDF)):
            # Envelopes of earlier attempts no longer count: their callbacks are ignored.
            self.envelope_id = None
            self.effects.append(
                self._effect("prepare_signing", str(workflow.uuid4()), PREPARES_SIGNING[event])
            )
        elif event == ProposalEvent.ACCEPT and workflow.patched(PATCH_SIGNATURE_ENVELOPE):
            # Envelopes of earlier attempts no longer count: their callbacks are ignored.
            self.envelope_id = None
            self.effects.append(
                Effect(
                    "signature_envelope",
                    f"{proposal_workflow_id(self.start.proposal_id)}:envelope:{workflow.uuid4()}",
                    "provider",
                )
            )
        if event == ProposalEvent.RESEND:
            # The proposal mail still waiting (failing to the old address) is superseded by
            # this one: it goes to the corrected address once, not twice.
            superseded = self._waiting("proposal_sent")
            if superseded and (lean or workflow.patched(PATCH_LOOSE_ENDS)):
                self._drop(superseded)
        if event in EMAILS_ON_EVENT:
            template, recipient = EMAILS_ON_EVENT[event]
            numbers = {
                "proposal_sent": self.machine.model.sent_count,
                "proposal_reminder": self.machine.model.reminders_sent,
            }
            number = numbers.get(template, 1)
            self.effects.append(self._effect(template, str(number), recipient))
        envelope = self.envelope_id
        if (
            event in (ProposalEvent.CANCEL, ProposalEvent.EXPIRE)
            and envelope is not None
            and not envelope.startswith("local-")
            and (lean or workflow.patched(PATCH_LOOSE_ENDS))
        ):
            # Cancelled, replaced (a cancel) or expired: its signing link must die at the
            # provider too, or the buyer could still sign a contract that no longer exists.
            self.effects.append(
                Effect(
                    "void_envelope",
                    f"{proposal_workflow_id(self.start.proposal_id)}:void:{envelope}",
                    "provider",
                    ref_id=envelope,
                )
            )

    async def _perform(self, effect: Effect) -> None:
        proposal_id = self.start.proposal_id
        if effect.kind == "finalize_signature":
            await workflow.execute_activity(
                ACTIVITY_FINALIZE_SIGNATURE,
                self._finalize_input(),
                start_to_close_timeout=DOCUMENTS_TIMEOUT,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=EMAIL_RETRY,
                summary="signed contract and general conditions (PDF)",
            )
        elif effect.kind == "prepare_signing":
            prepare = PrepareSigning(proposal_id, in_person=effect.recipient == "in_person")
            summary = "contract to review (PDF) and, remotely, the e-signature envelope"
            if self._lean_v4() and (prepare.in_person or self.signs_on_page):
                # Only our own rendering (about a millisecond), no provider: in this workflow
                # task. A worker dying meanwhile times the task out and another runs it again.
                envelope_id = await workflow.execute_local_activity(
                    ACTIVITY_PREPARE_SIGNING,
                    prepare,
                    start_to_close_timeout=LOCAL_PREPARE_TIMEOUT,
                    retry_policy=ENVELOPE_RETRY,
                    summary=summary,
                )
            else:
                envelope_id = await workflow.execute_activity(
                    ACTIVITY_PREPARE_SIGNING,
                    prepare,
                    start_to_close_timeout=timedelta(minutes=3),
                    heartbeat_timeout=HEARTBEAT_TIMEOUT,
                    retry_policy=ENVELOPE_RETRY,
                    summary=summary,
                )
            if envelope_id:
                self.envelope_id = envelope_id
        elif effect.kind == "signature_envelope":
            self.envelope_id = await workflow.execute_activity(
                ACTIVITY_CREATE_ENVELOPE,
                CreateEnvelopeInput(proposal_id),
                start_to_close_timeout=timedelta(minutes=3),
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=ENVELOPE_RETRY,
                summary="e-signature envelope for the buyer",
            )
        elif effect.kind == "complete_signature":
            await workflow.execute_activity(
                ACTIVITY_COMPLETE_SIGNATURE,
                CompleteSignature(
                    self._finalize_input(),
                    [
                        ProposalEmail(proposal_id, kind, recipient, self._effect(kind, "1", recipient).key)
                        for kind, recipient in SIGNING_EFFECTS[ProposalEvent.SIGN][1:]
                    ],
                ),
                start_to_close_timeout=DOCUMENTS_TIMEOUT + timedelta(minutes=1),
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=EMAIL_RETRY,
                summary="signed contract (PDF), then the buyer's emails and the dealer's notice",
            )
        elif effect.kind == "void_envelope":
            assert effect.ref_id is not None
            await workflow.execute_activity(
                ACTIVITY_VOID_ENVELOPE,
                VoidEnvelopeInput(
                    proposal_id, effect.ref_id, f"Proposition {self.state} ({self.start.contract_number})"
                ),
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=ENVELOPE_RETRY,
                summary="void the e-signature envelope",
            )
        elif effect.kind == "signing_code":
            await workflow.execute_activity(
                ACTIVITY_SIGNING_CODE,
                SigningCodeRequest(proposal_id, effect.key),
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=EMAIL_RETRY,
                summary="signing code by SMS to the buyer",
            )
        else:
            await workflow.execute_activity(
                ACTIVITY_EMAIL,
                ProposalEmail(proposal_id, effect.kind, effect.recipient or "buyer", effect.key),
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=EMAIL_RETRY,
                summary=f"{effect.kind} to the {effect.recipient}",
            )

    def _finalize_input(self) -> FinalizeSignature:
        return FinalizeSignature(
            self.start.proposal_id, self.machine.model.signed_at or workflow.now(), self.signature_audit
        )

    # --- what the world sees ------------------------------------------------------------------

    def _search_attributes(self) -> list[Any]:
        return [
            PROPOSAL_STATE.value_set(self.state),
            DEALER_ID.value_set(self.start.dealer_id),
            CONTRACT_NUMBER.value_set(self.start.contract_number),
            EMAIL_FAILED.value_set(self.effect_failed),
        ]

    def _detail_lines(self) -> list[str]:
        return [f"**Contract:** {self.start.contract_number}"]

    def _projection(self) -> ProposalProjection:
        facts = self.machine.model
        assert facts.expires_at is not None  # set from the start
        return ProposalProjection(
            proposal_id=self.start.proposal_id,
            expires_at=facts.expires_at,
            **fields_of(facts, ProposalTimeline),
            **self._lifecycle_projection(),
        )

    def _status(self) -> ProposalStatus:
        facts = self.machine.model
        assert facts.expires_at is not None
        return ProposalStatus(
            proposal_id=self.start.proposal_id,
            expires_at=facts.expires_at,
            first_sent_at=facts.first_sent_at,
            signed_at=facts.signed_at,
            withdrawal_deadline=facts.withdrawal_deadline,
            sent_count=facts.sent_count,
            view_count=facts.view_count,
            envelope_id=self.envelope_id,
            **self._lifecycle_status(),
        )
