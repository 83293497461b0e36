"""ProposalWorkflow: one warranty/maintenance proposal, from draft to a binding contract.

The machine (statemachines/proposal.py) decides what is legal; this workflow holds it, the
validity and withdrawal timers, and the queue of emails. Every user action is an update
whose validator asks the machine first, so an illegal event never reaches history.

Side effects are activities: `project_proposal` writes the read model before an update
returns (the dealer's next list call sees its own change), and emails are sent by the main
loop, so an SMTP outage delays a mail but never blocks the dealer or loses the mail: after
the retry budget the workflow raises EmailFailed and waits for an ADV `retry_emails` signal.
"""

from __future__ import annotations

import asyncio
import functools
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from statemachines.deadlines import proposal_expires_at, withdrawal_deadline
    from statemachines.proposal import (
        PROPOSAL_FINAL_STATES,
        TransitionNotAllowed,
        apply_event,
        enabled_event_names,
        restore_proposal,
    )
    from workflows.proposal_contract import (
        ACTIVITY_CREATE_ENVELOPE,
        ACTIVITY_EMAIL,
        ACTIVITY_FINALIZE_SIGNATURE,
        ACTIVITY_PROJECT,
        ACTIVITY_SIGNING_CODE,
        PATCH_SIGNATURE_ENVELOPE,
        PATCH_SIGNING_EFFECTS,
        QUERY_STATUS,
        REFUSED_ERROR_TYPE,
        SIGNAL_PROVIDER_EVENT,
        SIGNAL_RETRY_EMAILS,
        WORKFLOW_TYPE,
        CreateEnvelopeInput,
        EventRequest,
        FinalizeSignature,
        ProposalEmail,
        ProposalProjection,
        ProposalStart,
        ProposalStatus,
        ProviderEvent,
        SignatureAuditData,
        SigningCodeRequest,
    )
    from workflows.search_attributes import CONTRACT_NUMBER, DEALER_ID, EMAIL_FAILED, PROPOSAL_STATE

PROJECTION_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
# About 10 minutes of retries (5 s doubling, capped at 2 min) before ADV is asked to look.
EMAIL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=8,
    non_retryable_error_types=["BadEmail", "NoSuchProposal"],
)
# Emails each event sends: (template, recipient).
EMAILS_ON_EVENT: dict[str, tuple[str, str]] = {
    "send_to_buyer": ("proposal_sent", "buyer"),
    "resend": ("proposal_sent", "buyer"),
    "expire": ("proposal_expired", "dealer"),
    "withdraw": ("withdrawal_confirmed", "buyer"),
}
# Side effects of signing, in order, behind PATCH_SIGNING_EFFECTS: the documents first (the
# buyer's email attaches them), then the buyer's and the dealer's emails. `start_in_person`
# sends the SMS code. Queued like emails: retried, then EmailFailed and an ADV retry.
SIGNING_EFFECTS: dict[str, list[tuple[str, str]]] = {
    "sign": [
        ("finalize_signature", "system"),
        ("contract_signed", "buyer"),
        ("welcome", "buyer"),
        ("dealer_sale_notice", "dealer"),
    ],
    "start_in_person": [("signing_code", "buyer_sms")],
}
DOCUMENTS_TIMEOUT = timedelta(minutes=2)
ENVELOPE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=8,
    non_retryable_error_types=["SignatureProviderRefused", "NoSuchProposal", "NoSuchDocument"],
)


@workflow.defn(name=WORKFLOW_TYPE, failure_exception_types=[TransitionNotAllowed])
class ProposalWorkflow:
    @workflow.init
    def __init__(self, start: ProposalStart) -> None:
        self.start = start
        self.machine = restore_proposal()
        self.expires_at = proposal_expires_at(start.saved_at)
        self.first_sent_at: datetime | None = None
        self.last_sent_at: datetime | None = None
        self.sent_count = 0
        self.view_count = 0
        self.first_viewed_at: datetime | None = None
        self.last_viewed_at: datetime | None = None
        self.signed_at: datetime | None = None
        self.withdrawal_deadline: datetime | None = None
        self.signature_audit: SignatureAuditData | None = None
        self.envelope_id: str | None = None
        self.version = 0
        self.emails: list[ProposalEmail] = []
        self.email_failed = False
        self.email_error: str | None = None
        # One transition at a time: handlers interleave at every await.
        self.lock = asyncio.Lock()

    @property
    def state(self) -> str:
        return str(self.machine.current_state_value)

    # --- main loop: timers and the email queue -------------------------------------------

    @workflow.run
    async def run(self, start: ProposalStart) -> ProposalStatus:
        self._publish()
        if start.send_now:
            async with self.lock:
                self._fire("send_to_buyer")
                await self._project()
        while not (self.state in PROPOSAL_FINAL_STATES and not self.emails):
            if self.emails and not self.email_failed:
                await self._send_next_email()
                continue
            seen = self.version
            deadline = self._deadline()
            if deadline is not None and deadline <= workflow.now():
                async with self.lock:
                    await self._deadline_passed()
                continue
            timeout = None if deadline is None else deadline - workflow.now()
            try:
                await workflow.wait_condition(
                    functools.partial(self._woken, seen),
                    timeout=timeout,
                )
            except TimeoutError:
                async with self.lock:
                    await self._deadline_passed()
        # The update that ended the lifecycle is still writing its projection: let it finish.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._status()

    def _woken(self, seen_version: int) -> bool:
        """A transition happened (the deadline may have moved), or an email can go."""
        return self.version != seen_version or bool(self.emails and not self.email_failed)

    def _deadline(self) -> datetime | None:
        if self.state == "signed":
            return self.withdrawal_deadline
        if "expire" in enabled_event_names(self.machine):
            return self.expires_at
        return None

    async def _deadline_passed(self) -> None:
        deadline = self._deadline()
        if deadline is None or workflow.now() < deadline:
            return  # a transition moved the deadline while the timer ran
        self._fire("window_closes" if self.state == "signed" else "expire")
        await self._project()

    async def _send_next_email(self) -> None:
        email = self.emails[0]
        try:
            if email.template == "finalize_signature":
                await workflow.execute_activity(
                    ACTIVITY_FINALIZE_SIGNATURE,
                    FinalizeSignature(
                        self.start.proposal_id, self.signed_at or workflow.now(), self.signature_audit
                    ),
                    start_to_close_timeout=DOCUMENTS_TIMEOUT,
                    retry_policy=EMAIL_RETRY,
                    summary="signed contract and general conditions (PDF)",
                )
            elif email.template == "signature_envelope":
                # Envelopes of earlier attempts no longer count: their callbacks are ignored.
                self.envelope_id = await workflow.execute_activity(
                    ACTIVITY_CREATE_ENVELOPE,
                    CreateEnvelopeInput(self.start.proposal_id),
                    start_to_close_timeout=timedelta(minutes=3),
                    retry_policy=ENVELOPE_RETRY,
                    summary="e-signature envelope for the buyer",
                )
            elif email.template == "signing_code":
                await workflow.execute_activity(
                    ACTIVITY_SIGNING_CODE,
                    SigningCodeRequest(self.start.proposal_id, email.idempotency_key),
                    start_to_close_timeout=timedelta(minutes=1),
                    retry_policy=EMAIL_RETRY,
                    summary="signing code by SMS to the buyer",
                )
            else:
                await workflow.execute_activity(
                    ACTIVITY_EMAIL,
                    email,
                    start_to_close_timeout=timedelta(minutes=1),
                    retry_policy=EMAIL_RETRY,
                    summary=f"{email.template} to the {email.recipient}",
                )
        except ActivityError as err:
            cause = err.cause
            self.email_failed = True
            self.email_error = str(cause.message if isinstance(cause, ApplicationError) else cause or err)
            workflow.logger.warning(
                "email %s failed; waiting for ADV retry: %s", email.idempotency_key, self.email_error
            )
        else:
            self.emails.pop(0)
            if not self.email_failed and self.email_error is None:
                return
            self.email_failed, self.email_error = False, None
        async with self.lock:
            self.version += 1
            await self._project()

    # --- user events: updates with validators --------------------------------------------

    @workflow.update
    async def send_to_buyer(self, request: EventRequest) -> ProposalStatus:
        return await self._handle("send_to_buyer", request)

    @send_to_buyer.validator
    def _validate_send_to_buyer(self, request: EventRequest) -> None:
        self._validate("send_to_buyer")

    @workflow.update
    async def resend(self, request: EventRequest) -> ProposalStatus:
        return await self._handle("resend", request)

    @resend.validator
    def _validate_resend(self, request: EventRequest) -> None:
        self._validate("resend")

    @workflow.update
    async def view(self, request: EventRequest) -> ProposalStatus:
        return await self._handle("view", request)

    @view.validator
    def _validate_view(self, request: EventRequest) -> None:
        self._validate("view")

    @workflow.update
    async def accept(self, request: EventRequest) -> ProposalStatus:
        return await self._handle("accept", request)

    @accept.validator
    def _validate_accept(self, request: EventRequest) -> None:
        self._validate("accept")

    @workflow.update
    async def start_in_person(self, request: EventRequest) -> ProposalStatus:
        return await self._handle("start_in_person", request)

    @start_in_person.validator
    def _validate_start_in_person(self, request: EventRequest) -> None:
        self._validate("start_in_person")

    @workflow.update
    async def sign(self, request: EventRequest) -> ProposalStatus:
        return await self._handle("sign", request)

    @sign.validator
    def _validate_sign(self, request: EventRequest) -> None:
        self._validate("sign")

    @workflow.update
    async def abandon(self, request: EventRequest) -> ProposalStatus:
        return await self._handle("abandon", request)

    @abandon.validator
    def _validate_abandon(self, request: EventRequest) -> None:
        self._validate("abandon")

    @workflow.update
    async def withdraw(self, request: EventRequest) -> ProposalStatus:
        return await self._handle("withdraw", request)

    @withdraw.validator
    def _validate_withdraw(self, request: EventRequest) -> None:
        self._validate("withdraw")

    @workflow.update
    async def decline(self, request: EventRequest) -> ProposalStatus:
        return await self._handle("decline", request)

    @decline.validator
    def _validate_decline(self, request: EventRequest) -> None:
        self._validate("decline")

    @workflow.update
    async def cancel(self, request: EventRequest) -> ProposalStatus:
        return await self._handle("cancel", request)

    @cancel.validator
    def _validate_cancel(self, request: EventRequest) -> None:
        self._validate("cancel")

    @workflow.signal(name=SIGNAL_RETRY_EMAILS)
    def retry_emails(self) -> None:
        """ADV: try the failed email again (after the outage is over or the address fixed)."""
        if self.email_failed:
            self.email_failed = False

    @workflow.signal(name=SIGNAL_PROVIDER_EVENT)
    async def provider_event(self, event: ProviderEvent) -> None:
        """E-signature callback: completed signs, declined/voided abandons signing.

        A callback that no longer applies (replayed, or the proposal moved on) is ignored.
        """
        name = "sign" if event.outcome == "completed" else "abandon"
        if self.envelope_id is not None and event.envelope_id != self.envelope_id:
            workflow.logger.info(
                "ignored %s callback of an earlier envelope %s", event.outcome, event.envelope_id
            )
            return
        async with self.lock:
            if self._refusal(name) is not None:
                workflow.logger.info("ignored %s callback in state %s", event.outcome, self.state)
                return
            if name == "sign":
                self.signature_audit = SignatureAuditData(
                    method=event.provider, signer_name="", user_agent=f"enveloppe {event.envelope_id}"
                )
            self._fire(name)
            await self._project()

    @workflow.query(name=QUERY_STATUS)
    def status(self) -> ProposalStatus:
        return self._status()

    # --- transitions ----------------------------------------------------------------------

    def _validate(self, event: str) -> None:
        reason = self._refusal(event)
        if reason is not None:
            raise self._refused(event, reason)

    def _refusal(self, event: str) -> str | None:
        if event not in enabled_event_names(self.machine):
            return f"cannot {event} a proposal in state {self.state}"
        if event == "withdraw" and self.withdrawal_deadline and workflow.now() > self.withdrawal_deadline:
            # The timer may not have fired yet; the law counts, not our timer.
            return f"the withdrawal window ended at {self.withdrawal_deadline.isoformat()}"
        return None

    def _refused(self, event: str, reason: str) -> ApplicationError:
        allowed = [e for e in enabled_event_names(self.machine) if self._refusal_basic(e)]
        return ApplicationError(
            reason,
            {"state": self.state, "allowed_events": allowed, "reason": reason, "event": event},
            type=REFUSED_ERROR_TYPE,
            non_retryable=True,
        )

    def _refusal_basic(self, event: str) -> bool:
        return event not in ("expire", "window_closes") and self._refusal(event) is None

    async def _handle(self, event: str, request: EventRequest) -> ProposalStatus:
        async with self.lock:
            # Re-checked under the lock: another update may have moved the state since the
            # validator ran (two concurrent "sign": exactly one wins).
            reason = self._refusal(event)
            if reason is not None:
                raise self._refused(event, reason)
            workflow.logger.info("%s by %s in state %s", event, request.actor, self.state)
            if event == "sign":
                self.signature_audit = request.audit
            self._fire(event)
            await self._project()
        return self._status()

    def _fire(self, event: str) -> None:
        try:
            apply_event(self.machine, event)
        except TransitionNotAllowed as exc:  # unreachable behind _refusal; never hang the task
            raise self._refused(event, str(exc)) from None
        now = workflow.now()
        if event in ("send_to_buyer", "resend"):
            self.sent_count += 1
            self.last_sent_at = now
            if self.first_sent_at is None:
                self.first_sent_at = now
                self.expires_at = proposal_expires_at(self.start.saved_at, now)
        elif event == "view":
            self.view_count += 1
            self.last_viewed_at = now
            self.first_viewed_at = self.first_viewed_at or now
        elif event == "sign":
            self.signed_at = now
            self.withdrawal_deadline = withdrawal_deadline(now, self.start.kind)
        if event in SIGNING_EFFECTS and workflow.patched(PATCH_SIGNING_EFFECTS):
            for template, recipient in SIGNING_EFFECTS[event]:
                # A fresh key per SMS code (a new code each time signing starts in person).
                suffix = str(workflow.uuid4()) if template == "signing_code" else "1"
                self.emails.append(
                    ProposalEmail(
                        proposal_id=self.start.proposal_id,
                        template=template,
                        recipient=recipient,
                        idempotency_key=f"proposal-{self.start.proposal_id}:{template}:{suffix}",
                    )
                )
        if event == "accept" and workflow.patched(PATCH_SIGNATURE_ENVELOPE):
            self.envelope_id = None
            self.emails.append(
                ProposalEmail(
                    proposal_id=self.start.proposal_id,
                    template="signature_envelope",
                    recipient="provider",
                    idempotency_key=f"proposal-{self.start.proposal_id}:envelope:{workflow.uuid4()}",
                )
            )
        if event in EMAILS_ON_EVENT:
            template, recipient = EMAILS_ON_EVENT[event]
            number = self.sent_count if template == "proposal_sent" else 1
            self.emails.append(
                ProposalEmail(
                    proposal_id=self.start.proposal_id,
                    template=template,
                    recipient=recipient,
                    idempotency_key=f"proposal-{self.start.proposal_id}:{template}:{number}",
                )
            )
        self.version += 1
        self._publish()

    async def _project(self) -> None:
        self._publish()
        await workflow.execute_activity(
            ACTIVITY_PROJECT,
            ProposalProjection(
                proposal_id=self.start.proposal_id,
                version=self.version,
                state=self.state,
                expires_at=self.expires_at,
                first_sent_at=self.first_sent_at,
                last_sent_at=self.last_sent_at,
                sent_count=self.sent_count,
                view_count=self.view_count,
                first_viewed_at=self.first_viewed_at,
                last_viewed_at=self.last_viewed_at,
                signed_at=self.signed_at,
                withdrawal_deadline=self.withdrawal_deadline,
                email_failed=self.email_failed,
                email_error=self.email_error,
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=PROJECTION_RETRY,
            summary=f"read model: {self.state}",
        )

    def _publish(self) -> None:
        """Search attributes and the UI's current details, for ADV staff."""
        workflow.upsert_search_attributes(
            [
                PROPOSAL_STATE.value_set(self.state),
                DEALER_ID.value_set(self.start.dealer_id),
                CONTRACT_NUMBER.value_set(self.start.contract_number),
                EMAIL_FAILED.value_set(self.email_failed),
            ]
        )
        deadline = self._deadline()
        lines = [f"**State:** {self.state}", f"**Contract:** {self.start.contract_number}"]
        if deadline is not None:
            lines.append(f"**Next deadline:** {deadline.isoformat()}")
        if self.email_failed:
            lines.append(f"**Email failing:** {self.email_error} — signal `{SIGNAL_RETRY_EMAILS}` to retry")
        workflow.set_current_details("\n\n".join(lines))

    def _status(self) -> ProposalStatus:
        return ProposalStatus(
            proposal_id=self.start.proposal_id,
            state=self.state,
            allowed_events=[e for e in enabled_event_names(self.machine) if self._refusal_basic(e)],
            expires_at=self.expires_at,
            first_sent_at=self.first_sent_at,
            signed_at=self.signed_at,
            withdrawal_deadline=self.withdrawal_deadline,
            sent_count=self.sent_count,
            view_count=self.view_count,
            email_failed=self.email_failed,
            email_error=self.email_error,
            pending_emails=[e.idempotency_key for e in self.emails],
            envelope_id=self.envelope_id,
        )
