"""The API and the worker freeze their startup heap (carflow/heap.py): a full collection
then scans only what requests and tasks made, not the ~190,000 objects of the app."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from carflow.heap import freeze_startup_heap


@pytest.fixture
def unfrozen() -> Iterator[None]:
    # This test process is not a server: whatever a test froze goes back to the collector.
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_frozen_objects_leave_the_collector_and_later_ones_do_not(unfrozen) -> None:
    kept = [object(), {"startup": []}]
    assert freeze_startup_heap() > 1000
    assert len(gc.get_objects()) < 1000  # all that lived went to the permanent generation
    tracked = {id(o) for o in gc.get_objects()}
    assert id(kept[1]) not in tracked and id(kept) not in tracked
    made_later = {"request": []}
    assert id(made_later) in {id(o) for o in gc.get_objects()}


def test_the_api_command_freezes_the_app_before_serving(unfrozen, monkeypatch, tmp_path) -> None:
    import uvicorn

    from cli.main import cmd_api
    from support import make_settings

    served = {}

    def run(app, **_options) -> None:  # noqa: ANN001
        served["frozen"] = gc.get_freeze_count()
        served["app_tracked"] = id(app) in {id(o) for o in gc.get_objects()}

    monkeypatch.setattr(uvicorn, "run", run)
    cmd_api(make_settings(tmp_path), None)  # type: ignore[arg-type]
    assert served["frozen"] > 50_000 and served["app_tracked"] is False
