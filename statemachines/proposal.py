"""Proposal lifecycle: the legal transitions of a warranty/maintenance proposal (DESIGN §3).

Pure rules only. This module is passed through into Temporal's workflow sandbox, so it
must stay free of I/O, clocks and import-time side effects, and the machine's callbacks
may only update the model's own fields (restoring a machine must never email anyone).

The model holds the lifecycle's facts as well as its state: when it was sent and viewed,
how often, when it was signed, and the two deadlines (validity, withdrawal window). The
callbacks keep them, so the workflow and the read model agree on them by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from statemachine import Event, State
from statemachine.exceptions import TransitionNotAllowed

from statemachines.deadlines import proposal_expires_at, withdrawal_deadline
from statemachines.lifecycle import Actor, LifecycleMachine, Refusal, apply_event

__all__ = [
    "PROPOSAL_EVENTS",
    "PROPOSAL_FINAL_STATES",
    "PROPOSAL_STATES",
    "SIGNING_ORIGINS",
    "USER_EVENTS",
    "Actor",
    "ProposalEvent",
    "ProposalMachine",
    "ProposalModel",
    "ProposalState",
    "ProposalTimeline",
    "Refusal",
    "TransitionNotAllowed",
    "allowed_events",
    "apply_event",
    "new_proposal",
    "restore_proposal",
]


class ProposalState(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    VIEWED = "viewed"
    SIGNING = "signing"
    SIGNED = "signed"
    BINDING = "binding"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class ProposalEvent(StrEnum):
    SEND_TO_BUYER = "send_to_buyer"
    RESEND = "resend"
    VIEW = "view"
    ACCEPT = "accept"
    START_IN_PERSON = "start_in_person"
    SIGN = "sign"
    ABANDON = "abandon"
    WITHDRAW = "withdraw"
    WINDOW_CLOSES = "window_closes"
    DECLINE = "decline"
    CANCEL = "cancel"
    EXPIRE = "expire"
    REMIND = "remind"


PROPOSAL_STATES: tuple[str, ...] = tuple(s.value for s in ProposalState)
PROPOSAL_EVENTS: tuple[str, ...] = tuple(e.value for e in ProposalEvent)
PROPOSAL_FINAL_STATES: frozenset[str] = frozenset(
    {
        ProposalState.BINDING,
        ProposalState.EXPIRED,
        ProposalState.WITHDRAWN,
        ProposalState.DECLINED,
        ProposalState.CANCELLED,
    }
)
# The states signing can start from, hence the states `abandon` can return to.
SIGNING_ORIGINS: frozenset[str] = frozenset({ProposalState.DRAFT, ProposalState.SENT, ProposalState.VIEWED})

_ANY_PERSON_SIGNS = frozenset({Actor.BUYER, Actor.DEALER, Actor.PROVIDER})
# Who fires what: the buyer remotely, the dealer at the desk (and for integrations), the
# e-signature provider's callback; the two timers are the workflow's own.
PROPOSAL_ACTORS: dict[str, frozenset[Actor]] = {
    ProposalEvent.SEND_TO_BUYER: frozenset({Actor.DEALER}),
    ProposalEvent.RESEND: frozenset({Actor.DEALER}),
    ProposalEvent.VIEW: frozenset({Actor.BUYER}),
    ProposalEvent.ACCEPT: frozenset({Actor.BUYER}),
    ProposalEvent.START_IN_PERSON: frozenset({Actor.DEALER}),
    # Remotely the buyer signs (or the provider reports it); face to face the dealer
    # confirms the code the buyer read out.
    ProposalEvent.SIGN: _ANY_PERSON_SIGNS,
    # Signing that cannot finish goes back to where it started: the buyer changes their
    # mind, a new SMS code restarts it (dealer), the provider reports a declined envelope.
    ProposalEvent.ABANDON: _ANY_PERSON_SIGNS,
    ProposalEvent.WITHDRAW: frozenset({Actor.BUYER, Actor.DEALER}),
    ProposalEvent.DECLINE: frozenset({Actor.BUYER}),
    ProposalEvent.CANCEL: frozenset({Actor.DEALER}),
    ProposalEvent.EXPIRE: frozenset({Actor.TIMER}),
    ProposalEvent.WINDOW_CLOSES: frozenset({Actor.TIMER}),
    ProposalEvent.REMIND: frozenset({Actor.TIMER}),
}
# Events a person (dealer, buyer, provider) can fire; `expire` and `window_closes` are timers.
USER_EVENTS: tuple[str, ...] = tuple(e for e in PROPOSAL_EVENTS if PROPOSAL_ACTORS[e] - {Actor.TIMER})


@dataclass(kw_only=True)
class ProposalTimeline:
    """When a proposal was sent, viewed and signed, and until when it can be withdrawn.

    The machine's callbacks keep these facts; the read model records them as they are
    (`fields_of(model, ProposalTimeline)`), so the workflow and the database agree on them
    by construction.
    """

    first_sent_at: datetime | None = None
    last_sent_at: datetime | None = None
    sent_count: int = 0
    view_count: int = 0
    first_viewed_at: datetime | None = None
    last_viewed_at: datetime | None = None
    signed_at: datetime | None = None
    withdrawal_deadline: datetime | None = None


@dataclass
class ProposalModel(ProposalTimeline):
    """What a proposal's lifecycle needs to be rebuilt at any point, and its facts.

    `signing_origin` is set exactly while the proposal is in `signing`: it is the state
    that `abandon` returns to. `kind` (service | insurance) picks the withdrawal window.
    """

    state: str = ProposalState.DRAFT.value
    signing_origin: str | None = None
    kind: str = "service"
    saved_at: datetime | None = None
    expires_at: datetime | None = None
    # Reminders to a buyer who has not signed: so long after the first sending, and so long
    # before the end of validity (None: that reminder is off). `next_reminder_at` is the
    # next one due; each is sent once.
    remind_after_sent: timedelta | None = None
    remind_before_expiry: timedelta | None = None
    next_reminder_at: datetime | None = None
    reminders_sent: int = 0

    def __post_init__(self) -> None:
        # Checked here because the library accepts any value in `state` silently and only
        # fails later, far from the bad record.
        if self.state not in PROPOSAL_STATES:
            raise ValueError(f"unknown proposal state {self.state!r}")
        if self.state == ProposalState.SIGNING:
            if self.signing_origin not in SIGNING_ORIGINS:
                raise ValueError(
                    f"a proposal in signing needs signing_origin in {sorted(SIGNING_ORIGINS)},"
                    f" got {self.signing_origin!r}"
                )
        elif self.signing_origin is not None:
            raise ValueError(f"signing_origin is only meaningful in signing, not in {self.state!r}")


class ProposalMachine(LifecycleMachine):
    """Legal transitions of a proposal; build with `ProposalMachine(model=ProposalModel(...))`.

    Restoring through a model whose `state` is already set enters no state, so no
    `on_enter_*` callback runs (unlike `start_value=`, which re-enters the state). Every
    event takes `now` (keyword): guards and the facts kept in the model need it.
    """

    noun = "proposal"
    actors = PROPOSAL_ACTORS
    timers = {
        ProposalEvent.EXPIRE: "expires_at",
        ProposalEvent.WINDOW_CLOSES: "withdrawal_deadline",
        ProposalEvent.REMIND: "next_reminder_at",
    }
    # An abandoned signing goes back to sent or viewed, where the reminder applies again.
    paused_timers = {ProposalState.SIGNING: frozenset({ProposalEvent.REMIND})}
    verbs = {ProposalEvent.SEND_TO_BUYER: "send", ProposalEvent.START_IN_PERSON: "start in-person signing of"}
    # Only `sign` leads to signed, and the buyer signs once: a repeated signature is the same one.
    done_states = {ProposalEvent.SIGN: ProposalState.SIGNED}

    draft = State(initial=True)
    sent = State()
    viewed = State()
    signing = State()
    signed = State()
    binding = State(final=True)
    expired = State(final=True)
    withdrawn = State(final=True)
    declined = State(final=True)
    cancelled = State(final=True)

    # Event names are spelled out so diagrams and refusal messages use the identifiers the
    # API and workflows use, not humanised labels.
    send_to_buyer = Event(draft.to(sent), name="send_to_buyer")
    # Resending after an email/mobile correction changes nothing in the lifecycle; in
    # particular it never restarts the validity period (see deadlines.proposal_expires_at).
    resend = Event(sent.to.itself(internal=True) | viewed.to.itself(internal=True), name="resend")
    view = Event(sent.to(viewed) | viewed.to.itself(internal=True), name="view")
    accept = Event(viewed.to(signing), name="accept")
    start_in_person = Event(draft.to(signing) | sent.to(signing) | viewed.to(signing), name="start_in_person")
    sign = Event(signing.to(signed), name="sign")
    abandon = Event(
        signing.to(draft, cond="signing_started_from_draft")
        | signing.to(sent, cond="signing_started_from_sent")
        | signing.to(viewed, cond="signing_started_from_viewed"),
        name="abandon",
    )
    # The law counts, not our timer: past the window's end a withdrawal is refused even if
    # the timer has not fired yet.
    withdraw = Event(signed.to(withdrawn, cond="within_withdrawal_window"), name="withdraw")
    window_closes = Event(signed.to(binding, cond="withdrawal_window_over"), name="window_closes")
    decline = Event(viewed.to(declined), name="decline")
    cancel = Event(draft.to(cancelled) | sent.to(cancelled) | viewed.to(cancelled), name="cancel")
    expire = Event(
        draft.to(expired, cond="validity_over")
        | sent.to(expired, cond="validity_over")
        | viewed.to(expired, cond="validity_over")
        | signing.to(expired, cond="validity_over"),
        name="expire",
    )
    # Only while the buyer can still act on the proposal: never once signing has started,
    # after signature, cancellation or expiry.
    remind = Event(
        sent.to.itself(internal=True, cond="reminder_due")
        | viewed.to.itself(internal=True, cond="reminder_due"),
        name="remind",
    )

    # --- rules beyond the transitions ---------------------------------------------------------

    def accepts_corrections(self, now: datetime) -> bool:
        """The buyer's email/mobile and the seller can be corrected while the dealer could
        still cancel: corrections stop once signing has started."""
        return self.can(ProposalEvent.CANCEL, now=now, actor=Actor.DEALER)

    def contract_reviewable(self) -> bool:
        """The buyer may read the contract they are being asked to sign."""
        return bool(self.sent.is_active or self.viewed.is_active or self.signing.is_active)

    # --- guards: read-only, so the library may evaluate them any number of times ----------

    def signing_started_from_draft(self) -> bool:
        return bool(self.model.signing_origin == ProposalState.DRAFT)

    def signing_started_from_sent(self) -> bool:
        return bool(self.model.signing_origin == ProposalState.SENT)

    def signing_started_from_viewed(self) -> bool:
        return bool(self.model.signing_origin == ProposalState.VIEWED)

    def within_withdrawal_window(self, now: datetime) -> bool:
        deadline = self.model.withdrawal_deadline
        return deadline is None or now <= deadline

    def withdrawal_window_over(self, now: datetime) -> bool:
        deadline = self.model.withdrawal_deadline
        return deadline is not None and now >= deadline

    def validity_over(self, now: datetime) -> bool:
        expires_at = self.model.expires_at
        return expires_at is not None and now >= expires_at

    def reminder_due(self, now: datetime) -> bool:
        due = self.model.next_reminder_at
        return due is not None and now >= due and not self.validity_over(now)

    def _guard_failed(self, event: str, now: datetime) -> str:
        if event == ProposalEvent.WITHDRAW and self.model.withdrawal_deadline is not None:
            return f"the withdrawal window ended at {self.model.withdrawal_deadline.isoformat()}"
        return super()._guard_failed(event, now)

    # --- callbacks: the model's facts only; the workflow's activities do the side effects --

    def on_send_to_buyer(self, now: datetime) -> None:
        self._count_sending(now)

    def on_resend(self, now: datetime) -> None:
        self._count_sending(now)

    def _count_sending(self, now: datetime) -> None:
        model = self.model
        model.sent_count += 1
        model.last_sent_at = now
        if model.first_sent_at is None:
            # The validity runs from the first sending, never from a resend.
            model.first_sent_at = now
            if model.saved_at is not None:
                model.expires_at = proposal_expires_at(model.saved_at, now)
            model.next_reminder_at = self._reminder_after(now)

    def on_remind(self, now: datetime) -> None:
        self.model.reminders_sent += 1
        self.model.next_reminder_at = self._reminder_after(now)

    def _reminder_after(self, now: datetime) -> datetime | None:
        """The next reminder strictly after `now` and before the end of validity, if any."""
        model = self.model
        if model.first_sent_at is None or model.expires_at is None:
            return None
        planned = [
            model.first_sent_at + model.remind_after_sent if model.remind_after_sent else None,
            model.expires_at - model.remind_before_expiry if model.remind_before_expiry else None,
        ]
        upcoming = [at for at in planned if at is not None and now < at < model.expires_at]
        return min(upcoming, default=None)

    def on_view(self, now: datetime) -> None:
        model = self.model
        model.view_count += 1
        model.last_viewed_at = now
        model.first_viewed_at = model.first_viewed_at or now

    def on_sign(self, now: datetime) -> None:
        self.model.signed_at = now
        self.model.withdrawal_deadline = withdrawal_deadline(now, self.model.kind)

    def on_enter_signing(self, source: State) -> None:
        self.model.signing_origin = source.id

    def on_exit_signing(self) -> None:
        self.model.signing_origin = None


def new_proposal(kind: str, saved_at: datetime) -> ProposalMachine:
    """A proposal just saved: a draft valid 30 days from `saved_at`."""
    return ProposalMachine(
        model=ProposalModel(kind=kind, saved_at=saved_at, expires_at=proposal_expires_at(saved_at))
    )


def restore_proposal(
    state: str = ProposalState.DRAFT.value,
    signing_origin: str | None = None,
    *,
    expires_at: datetime | None = None,
    withdrawal_deadline: datetime | None = None,
    kind: str = "service",
) -> ProposalMachine:
    """A machine standing in `state`, without firing any entry callback."""
    return ProposalMachine(
        model=ProposalModel(
            state=state,
            signing_origin=signing_origin,
            kind=kind,
            expires_at=expires_at,
            withdrawal_deadline=withdrawal_deadline,
        )
    )


def from_read_model(
    state: str, *, expires_at: datetime | None, withdrawal_deadline: datetime | None
) -> ProposalMachine:
    """The machine as the read model knows it, for answering while the workflow cannot.

    The read model does not record where signing started from; that only decides where
    `abandon` returns to, not whether it is allowed, so any origin gives the same answers.
    """
    origin = min(SIGNING_ORIGINS) if state == ProposalState.SIGNING else None
    return restore_proposal(state, origin, expires_at=expires_at, withdrawal_deadline=withdrawal_deadline)


def allowed_events(state: str, signing_origin: str | None = None) -> list[str]:
    """Every event `state` can lead to, timers included, sorted: the design's table.

    `signing_origin` is required when `state` is `signing` (ValueError otherwise). Time
    guards are not evaluated here (no `now`); `ProposalMachine.allowed` does.
    """
    machine = restore_proposal(state, signing_origin)
    return sorted(str(e.id) for e in machine.allowed_events)
