"""Proposal lifecycle: the legal transitions of a warranty/maintenance proposal (DESIGN §3).

Pure rules only. This module is passed through into Temporal's workflow sandbox, so it
must stay free of I/O, clocks and import-time side effects, and the machine's callbacks
may only update the model's own fields (restoring a machine must never email anyone).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from statemachine import Event, State, StateMachine
from statemachine.exceptions import TransitionNotAllowed

from statemachines._events import apply_event, enabled_event_names

__all__ = [
    "PROPOSAL_EVENTS",
    "PROPOSAL_FINAL_STATES",
    "PROPOSAL_STATES",
    "SIGNING_ORIGINS",
    "ProposalEvent",
    "ProposalMachine",
    "ProposalModel",
    "ProposalState",
    "TransitionNotAllowed",
    "allowed_events",
    "apply_event",
    "enabled_event_names",
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


@dataclass
class ProposalModel:
    """What a proposal's lifecycle needs to be rebuilt at any point.

    `signing_origin` is set exactly while the proposal is in `signing`: it is the state
    that `abandon` returns to.
    """

    state: str = ProposalState.DRAFT.value
    signing_origin: str | None = None

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


class ProposalMachine(StateMachine):
    """Legal transitions of a proposal; build with `ProposalMachine(model=ProposalModel(...))`.

    Restoring through a model whose `state` is already set enters no state, so no
    `on_enter_*` callback runs (unlike `start_value=`, which re-enters the state).
    """

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
    resend = Event(sent.to.itself() | viewed.to.itself(), name="resend")
    view = Event(sent.to(viewed) | viewed.to.itself(), name="view")
    accept = Event(viewed.to(signing), name="accept")
    start_in_person = Event(draft.to(signing) | sent.to(signing) | viewed.to(signing), name="start_in_person")
    sign = Event(signing.to(signed), name="sign")
    abandon = Event(
        signing.to(draft, cond="signing_started_from_draft")
        | signing.to(sent, cond="signing_started_from_sent")
        | signing.to(viewed, cond="signing_started_from_viewed"),
        name="abandon",
    )
    withdraw = Event(signed.to(withdrawn), name="withdraw")
    window_closes = Event(signed.to(binding), name="window_closes")
    decline = Event(viewed.to(declined), name="decline")
    cancel = Event(draft.to(cancelled) | sent.to(cancelled) | viewed.to(cancelled), name="cancel")
    expire = Event(
        draft.to(expired) | sent.to(expired) | viewed.to(expired) | signing.to(expired),
        name="expire",
    )

    # Guards: read-only, so the library may evaluate them any number of times (it does,
    # for `enabled_events`).
    def signing_started_from_draft(self) -> bool:
        return bool(self.model.signing_origin == ProposalState.DRAFT)

    def signing_started_from_sent(self) -> bool:
        return bool(self.model.signing_origin == ProposalState.SENT)

    def signing_started_from_viewed(self) -> bool:
        return bool(self.model.signing_origin == ProposalState.VIEWED)

    # Callbacks: model bookkeeping only; the workflow's activities do the side effects.
    def on_enter_signing(self, source: State) -> None:
        self.model.signing_origin = source.id

    def on_exit_signing(self) -> None:
        self.model.signing_origin = None


def restore_proposal(
    state: str = ProposalState.DRAFT.value, signing_origin: str | None = None
) -> ProposalMachine:
    """A machine standing in `state`, without firing any entry callback."""
    return ProposalMachine(model=ProposalModel(state=state, signing_origin=signing_origin))


def allowed_events(state: str, signing_origin: str | None = None) -> list[str]:
    """Events legal in `state` (guards evaluated), sorted.

    `signing_origin` is required when `state` is `signing` (ValueError otherwise):
    whether `abandon` is possible depends on it.
    """
    return enabled_event_names(restore_proposal(state, signing_origin))
