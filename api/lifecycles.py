"""Every kind of lifecycle as the API sees it: its workflow contract and its read-model table.

One entry per kind, read by ADV and by the metrics; a new kind adds a line here (and its
contract to `workflows/kinds.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

from db.models import Listing, Proposal
from workflows.contract import LifecycleKind
from workflows.listing_contract import LISTING
from workflows.proposal_contract import PROPOSAL


@dataclass(frozen=True)
class Lifecycle:
    kind: LifecycleKind
    table: type[Proposal] | type[Listing]  # the read model: one row per workflow, `state` included

    @property
    def states(self) -> list[str]:
        return [state.id for state in self.kind.machine.states]


LIFECYCLES: tuple[Lifecycle, ...] = (Lifecycle(PROPOSAL, Proposal), Lifecycle(LISTING, Listing))
