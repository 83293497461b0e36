"""Every kind of lifecycle as clients address it (API, ADV, metrics): one entry per kind.

A new kind adds its contract's `LifecycleKind` here and its workflow class to
`workflows/registry.py` (the worker's list).
"""

from collections.abc import Mapping

from workflows.contract import LifecycleKind
from workflows.listing_contract import LISTING
from workflows.proposal_contract import PROPOSAL

KINDS: Mapping[str, LifecycleKind] = {kind.name: kind for kind in (PROPOSAL, LISTING)}


def kind_of(workflow_id: str) -> tuple[LifecycleKind, str] | None:
    """The kind and target id a workflow id belongs to, None for a foreign id."""
    for kind in KINDS.values():
        target = kind.target_id(workflow_id)
        if target is not None:
            return kind, target
    return None
