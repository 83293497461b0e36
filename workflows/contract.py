"""What every lifecycle workflow answers to, whatever its kind (proposal, listing).

Each kind's contract module (`proposal_contract`, `listing_contract`) re-exports these and
adds its own: workflow type, workflow-id function and its inverse, inputs, statuses,
activity names. The names below are Temporal names: renaming one breaks running workflows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio.common import SearchAttributeKey

from statemachines.lifecycle import LifecycleMachine

QUERY_STATUS = "status"
# ADV: try the failed side effect again. (Named when the queue held only emails; the
# name stays, running workflows listen to it.)
SIGNAL_RETRY_EMAILS = "retry_emails"
# A refused event fails the update with an ApplicationError of this type whose first
# detail is {"state", "allowed_events", "reason", "event", "code"}.
REFUSED_ERROR_TYPE = "TransitionNotAllowed"
# Bad input that slipped past the API fails the update with this type; detail {"field", "reason"}.
INVALID_INPUT_ERROR_TYPE = "InvalidListingInput"


@dataclass(frozen=True)
class LifecycleKind:
    """One kind of lifecycle, as clients (API, ADV, metrics) address it."""

    name: str  # "proposal", "listing": the workflow-id prefix and the read model's name
    workflow_type: str
    machine: type[LifecycleMachine]
    state_attribute: SearchAttributeKey[str]
    status_type: type

    @property
    def final_states(self) -> frozenset[str]:
        return frozenset(state.id for state in self.machine.final_states)

    def workflow_id(self, target_id: object) -> str:
        return f"{self.name}-{target_id}"

    def target_id(self, workflow_id: str) -> str | None:
        """The inverse of `workflow_id`: the proposal/listing id, None for another kind's id."""
        head, sep, rest = workflow_id.partition("-")
        return rest if sep and head == self.name and rest else None


# Temporal's JSON converter encodes and decodes dataclasses by field name, so the kinds'
# statuses and projections can share these fields without changing their payloads.


@dataclass(kw_only=True)
class LifecycleStatus:
    """What every kind's status (query and update result) says besides its own facts."""

    state: str
    allowed_events: list[str]
    email_failed: bool = False
    email_error: str | None = None
    pending_emails: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class LifecycleProjection:
    """What every kind's read model records besides its own facts; `version` orders the writes."""

    version: int
    state: str
    email_failed: bool = False
    email_error: str | None = None


# workflow.patched() id of the lean history (issue 11): search attributes upserted only when
# they change, one durable timer per deadline, projections as local activities, the signed
# proposal's three emails in one activity. Histories recorded before it replay the old way.
PATCH_LEAN_LIFECYCLE = "lean-lifecycle-v1"
# Its second version (asked instead of the first, so a new run records one marker): the one
# timer wakes at the machine's `wake_at`, which keeps a reminder's timer across signing
# instead of cancelling it on accept and starting it again. A v2 run is lean too.
PATCH_LEAN_LIFECYCLE_V2 = "lean-lifecycle-v2"
# The third (asked first; a v3 run has v2 too): an update may answer once the effect it queued
# is done (a proposal's accept: the contract to review), which moves the update's completion
# in history, hence its own id.
PATCH_LEAN_LIFECYCLE_V3 = "lean-lifecycle-v3"
# The fourth (asked first; a v4 run has v3 too): an effect that calls no one outside (a
# proposal's contract to review when the buyer signs on our page or at the dealer's, about
# 1 ms of rendering) runs as a local activity, in the workflow task that queued it, instead
# of a round trip through the server's activity queue and a second workflow task.
PATCH_LEAN_LIFECYCLE_V4 = "lean-lifecycle-v4"
