"""What a recorded workflow history costs: its events and its billable actions.

Billable actions as Temporal Cloud counts them for one workflow: the start, each activity
scheduled (a local activity is one marker), each timer started, each search-attribute upsert,
each signal and each accepted update. Patch markers are not actions.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

ACTION_EVENTS = {
    "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED": "start",
    "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED": "activities",
    "EVENT_TYPE_TIMER_STARTED": "timers",
    "EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES": "upserts",
    "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED": "signals",
    "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED": "updates",
}


def history_costs(history: str | dict[str, Any]) -> dict[str, int]:
    """Events, billable actions and their breakdown, from a history in its JSON form."""
    data = json.loads(history) if isinstance(history, str) else history
    events = data["events"]
    kinds = Counter(event["eventType"] for event in events)
    costs = {name: kinds.get(event, 0) for event, name in ACTION_EVENTS.items()}
    local_activities = sum(
        1
        for event in events
        if event["eventType"] == "EVENT_TYPE_MARKER_RECORDED"
        and event.get("markerRecordedEventAttributes", {}).get("markerName") == "core_local_activity"
    )
    costs["local_activities"] = local_activities
    costs["timers_cancelled"] = kinds.get("EVENT_TYPE_TIMER_CANCELED", 0)
    costs["actions"] = sum(costs[name] for name in ACTION_EVENTS.values()) + local_activities
    costs["events"] = len(events)
    return costs
