"""The bare baseline's workflow: a proposal as a string state, four updates, emails and timers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

TASK_QUEUE = "bench-bare"
WORKFLOW_TYPE = "BareProposal"
ACTIVITY_EMAIL = "bare_send_email"
VALIDITY = timedelta(days=30)
WITHDRAWAL = timedelta(days=14)
EMAIL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_attempts=8)
# Which state each update needs, and where it leads.
TRANSITIONS = {
    "send_to_buyer": ("draft", "sent"),
    "view": ("sent", "viewed"),
    "accept": ("viewed", "signing"),
    "sign": ("signing", "signed"),
}
# Emails each update sends, in order: (template, recipient).
EMAILS = {
    "send_to_buyer": [("proposal_sent", "buyer")],
    "sign": [("contract_signed", "buyer"), ("welcome", "buyer"), ("dealer_sale_notice", "dealer")],
}


@dataclass
class BareStart:
    proposal_id: str
    # Everything the emails and documents show (no database to read it from).
    contract: dict[str, Any] = field(default_factory=dict)


@dataclass
class BareEmail:
    proposal_id: str
    template: str
    recipient: str
    contract: dict[str, Any]
    signed_at: str | None = None
    signer_name: str | None = None


@dataclass
class BareEvent:
    iban: str | None = None
    account_holder: str | None = None
    full_name: str | None = None


@dataclass
class BareStatus:
    proposal_id: str
    state: str


@workflow.defn(name=WORKFLOW_TYPE)
class BareProposal:
    @workflow.init
    def __init__(self, start: BareStart) -> None:
        self.start = start
        self.state = "draft"
        self.expires_at = workflow.now() + VALIDITY
        self.emails: list[BareEmail] = []
        self.signed_at: str | None = None
        self.signer_name: str | None = None

    @workflow.run
    async def run(self, start: BareStart) -> BareStatus:
        while self.state != "signed" or self.emails:
            if self.emails:
                email = self.emails.pop(0)
                email.signed_at, email.signer_name = self.signed_at, self.signer_name
                await workflow.execute_activity(
                    ACTIVITY_EMAIL,
                    email,
                    start_to_close_timeout=timedelta(minutes=2),
                    retry_policy=EMAIL_RETRY,
                )
                continue
            try:
                await workflow.wait_condition(
                    lambda: bool(self.emails), timeout=self.expires_at - workflow.now()
                )
            except TimeoutError:
                self.state = "expired"
                return self._status()
        await workflow.sleep(WITHDRAWAL)
        self.state = "binding"
        return self._status()

    def _status(self) -> BareStatus:
        return BareStatus(self.start.proposal_id, self.state)

    def _check(self, event: str) -> None:
        needed, _ = TRANSITIONS[event]
        if self.state != needed:
            raise ApplicationError(f"{event} is not allowed in state {self.state}", type="Refused")

    def _fire(self, event: str) -> BareStatus:
        self._check(event)  # again: another update may have moved the state since the validator
        self.state = TRANSITIONS[event][1]
        for template, recipient in EMAILS.get(event, []):
            self.emails.append(BareEmail(self.start.proposal_id, template, recipient, self.start.contract))
        return self._status()

    @workflow.update
    def send_to_buyer(self, request: BareEvent) -> BareStatus:
        return self._fire("send_to_buyer")

    @send_to_buyer.validator
    def _validate_send(self, request: BareEvent) -> None:
        self._check("send_to_buyer")

    @workflow.update
    def view(self, request: BareEvent) -> BareStatus:
        return self._fire("view")

    @view.validator
    def _validate_view(self, request: BareEvent) -> None:
        self._check("view")

    @workflow.update
    def accept(self, request: BareEvent) -> BareStatus:
        self.start.contract["iban_masked"] = (request.iban or "")[:4] + " ****"
        self.start.contract["account_holder"] = request.account_holder
        return self._fire("accept")

    @accept.validator
    def _validate_accept(self, request: BareEvent) -> None:
        self._check("accept")
        if not request.iban:
            raise ApplicationError("an IBAN is required", type="Refused")

    @workflow.update
    def sign(self, request: BareEvent) -> BareStatus:
        self.signed_at = workflow.now().isoformat()
        self.signer_name = request.full_name
        return self._fire("sign")

    @sign.validator
    def _validate_sign(self, request: BareEvent) -> None:
        self._check("sign")
