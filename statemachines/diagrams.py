"""Lifecycle diagrams for `docs/`, generated from the machines themselves.

Run `python -m statemachines.diagrams` after changing a machine; a test fails while the
committed files differ from what the machines produce. Mermaid inside Markdown renders on
GitHub and needs neither Graphviz nor pydot, so any machine with our install can check it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from statemachine import StateMachine
from statemachine.contrib.diagram import formatter

from statemachines.listing import ListingMachine
from statemachines.proposal import ProposalMachine

__all__ = ["DIAGRAMS", "DOCS_DIR", "render_markdown", "write_diagrams"]

DOCS_DIR = Path(__file__).parent.parent / "docs"

# File name under docs/ -> (title, machine, the design section it mirrors).
DIAGRAMS: dict[str, tuple[str, type[StateMachine], str]] = {
    "proposal-states.md": ("Proposal lifecycle", ProposalMachine, "DESIGN §3"),
    "listing-states.md": ("Listing lifecycle", ListingMachine, "DESIGN §4"),
}


def render_markdown(title: str, machine: type[StateMachine], source: str) -> str:
    """The Markdown page for one machine: a Mermaid diagram and its transition table."""
    module = f"{machine.__module__}.{machine.__name__}"
    return "\n".join(
        [
            f"# {title}",
            "",
            f"<!-- Generated from `{module}` by `python -m statemachines.diagrams`;",
            "     do not edit by hand: tests/statemachines/test_diagrams.py checks it. -->",
            "",
            f"The legal transitions of `{module}` ({source}).",
            "Guards are in brackets; final states lead to `[*]`.",
            "",
            "```mermaid",
            formatter.render(machine, "mermaid").rstrip("\n"),
            "```",
            "",
            formatter.render(machine, "md").rstrip("\n"),
            "",
        ]
    )


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
