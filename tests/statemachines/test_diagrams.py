"""The diagrams in docs/ are kept current by this test: regenerate, compare, fail on drift."""

from __future__ import annotations

from pathlib import Path

import pytest

from statemachines.diagrams import DIAGRAMS, DOCS_DIR, render_markdown, write_diagrams

REGENERATE = "run `python -m statemachines.diagrams` and commit docs/"


@pytest.mark.parametrize("name", sorted(DIAGRAMS))
def test_committed_diagram_is_current(name: str) -> None:
    path = DOCS_DIR / name
    assert path.is_file(), f"{path} is missing: {REGENERATE}"

    title, machine, source = DIAGRAMS[name]
    committed = path.read_text(encoding="utf-8")

    assert committed == render_markdown(title, machine, source), f"{path} is stale: {REGENERATE}"


def test_diagrams_show_every_event_by_its_api_name() -> None:
    for title, machine, source in DIAGRAMS.values():
        page = render_markdown(title, machine, source)
        for event in machine().events:
            assert f": {event.id}" in page, (machine.__name__, event.id)


def test_generator_writes_what_the_check_expects(tmp_path: Path) -> None:
    written = write_diagrams(tmp_path)

    assert sorted(p.name for p in written) == sorted(DIAGRAMS)
    for path in written:
        title, machine, source = DIAGRAMS[path.name]
        assert path.read_text(encoding="utf-8") == render_markdown(title, machine, source)
