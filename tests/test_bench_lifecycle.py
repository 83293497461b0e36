"""The benchmark's counting rule for billable actions (bench/lifecycle.py), on histories.

Not a timed test: it checks what `make bench` counts, on hand-made events and on a
recorded history of the remote journey.
"""

from __future__ import annotations

from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import (
    ActivityTaskStartedEventAttributes,
    HistoryEvent,
    MarkerRecordedEventAttributes,
)
from temporalio.client import WorkflowHistory

from bench.lifecycle import billable_actions

HISTORIES = Path(__file__).parent / "workflows" / "histories"


def event(kind: int, event_id: int = 0, **attributes: object) -> HistoryEvent:
    return HistoryEvent(event_id=event_id, event_type=kind, **attributes)  # type: ignore[arg-type]


def test_activity_retries_count_per_attempt_and_local_activities_per_task() -> None:
    started = EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    marker = EventType.EVENT_TYPE_MARKER_RECORDED
    events = [
        event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, 1),
        event(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, 4),
        event(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, 5),
        event(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, 6),  # never started: still one
        event(
            started,
            7,
            activity_task_started_event_attributes=ActivityTaskStartedEventAttributes(
                scheduled_event_id=5, attempt=3
            ),
        ),
        # Two local activities in one workflow task, one in the next; a patch marker is free.
        event(
            marker,
            8,
            marker_recorded_event_attributes=MarkerRecordedEventAttributes(marker_name="core_local_activity"),
        ),
        event(
            marker,
            9,
            marker_recorded_event_attributes=MarkerRecordedEventAttributes(marker_name="core_local_activity"),
        ),
        event(
            marker,
            10,
            marker_recorded_event_attributes=MarkerRecordedEventAttributes(marker_name="core_patch"),
        ),
        event(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, 11),
        event(
            marker,
            12,
            marker_recorded_event_attributes=MarkerRecordedEventAttributes(marker_name="core_local_activity"),
        ),
        event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, 13),
        event(EventType.EVENT_TYPE_TIMER_STARTED, 14),
        event(EventType.EVENT_TYPE_TIMER_CANCELED, 15),  # cancelling is free
    ]
    assert billable_actions(events) == {
        "workflow_started": 1,
        "activity_attempts": 3 + 1,
        "local_activity_batches": 2,
        "signals": 1,
        "timers": 1,
    }


def test_a_recorded_remote_journey_counts_its_updates_upserts_timers_and_activities() -> None:
    path = HISTORIES / "remote_journey_signed.json"
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    counted = billable_actions(history.events)
    kinds = [e.event_type for e in history.events]
    assert counted["workflow_started"] == 1
    assert counted["updates"] == kinds.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) > 0
    assert counted["search_attribute_upserts"] == kinds.count(
        EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
    )
    assert counted["timers"] == kinds.count(EventType.EVENT_TYPE_TIMER_STARTED)
    assert counted["activity_attempts"] == kinds.count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
