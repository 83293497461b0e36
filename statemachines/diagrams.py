"""Lifecycle diagrams for `docs/`, generated from the machines themselves.

Run `python -m statemachines.diagrams` after changing a machine; a test fails while the
committed files differ from what the machines produce. Mermaid inside Markdown renders on
GitHub and needs neither Graphviz nor pydot, so any machine with our install can check it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from statemachine.contrib.diagram import formatter

from statemachines.lifecycle import LifecycleMachine
from statemachines.listing import ListingMachine
from statemachines.proposal import ProposalMachine

__all__ = ["DIAGRAMS", "DOCS_DIR", "render_markdown", "write_diagrams"]

DOCS_DIR = Path(__file__).parent.parent / "docs"

# File name under docs/ -> (title, machine, the design section it mirrors).
DIAGRAMS: dict[str, tuple[str, type[LifecycleMachine], str]] = {
    "proposal-states.md": ("Proposal lifecycle", ProposalMachine, "DESIGN §3"),
    "listing-states.md": ("Listing lifecycle", ListingMachine, "DESIGN §4"),
}


def render_markdown(title: str, machine: type[LifecycleMachine], source: str) -> str:
    """The Markdown page for one machine: a Mermaid diagram, its transitions, who fires what."""
    module = f"{machine.__module__}.{machine.__name__}"
    return "\n".join(
        [
            f"# {title}",
            "",
            f"<!-- Generated from `{module}` by `python -m statemachines.diagrams`;",
            "     do not edit by hand: tests/statemachines/test_diagrams.py checks it. -->",
            "",
            f"The legal transitions of `{module}` ({source}).",
            "Guards are in brackets; final states lead to `[*]`; an action listed inside a",
            "state obeys the lifecycle without changing state (an internal transition).",
            "",
            "```mermaid",
            _with_internal_actions(machine, formatter.render(machine, "mermaid").rstrip("\n")),
            "```",
            "",
            formatter.render(machine, "md").rstrip("\n"),
            "",
            "Who may fire each event, and the timers (the workflow fires a timer event when the",
            "deadline held in the model's field comes):",
            "",
            *_actors_table(machine),
            "",
        ]
    )


def _internal_actions(machine: type[LifecycleMachine]) -> dict[str, list[str]]:
    """State id -> the internal transitions possible there, by event name."""
    actions: dict[str, list[str]] = {}
    for state in machine.states:
        for transition in state.transitions:
            if transition.internal:
                actions.setdefault(state.id, []).extend(str(e) for e in transition.events)
    return actions


def _with_internal_actions(machine: type[LifecycleMachine], mermaid: str) -> str:
    lines = mermaid.splitlines()
    shown = set(lines)
    extra = [
        f"    {state} : {event}"
        for state, events in _internal_actions(machine).items()
        for event in events
        if not any(line.startswith(f"    {state} : {event}") for line in shown)
    ]
    start = next(i for i, line in enumerate(lines) if line.startswith("    [*] -->"))
    return "\n".join([*lines[:start], *extra, *lines[start:]])


def _actors_table(machine: type[LifecycleMachine]) -> list[str]:
    rows = ["| Event | Fired by | Deadline field |", "| ----- | -------- | -------------- |"]
    for event, actors in machine.actors.items():
        who = ", ".join(sorted(str(actor) for actor in actors))
        rows.append(f"| {event} | {who} | {machine.timers.get(event, '')} |")
    return rows


def write_diagrams(docs_dir: Path = DOCS_DIR) -> list[Path]:
    """(Re)write every diagram under `docs_dir`; returns the paths written."""
    docs_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (title, machine, source) in DIAGRAMS.items():
        path = docs_dir / name
        path.write_text(render_markdown(title, machine, source), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_diagrams(Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS_DIR):
        print(written_path)
