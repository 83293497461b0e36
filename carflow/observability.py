"""Observability plumbing: the worker's Prometheus runtime and Temporal ids in log lines.

* `metrics_runtime(settings)`: a Temporal SDK Runtime exporting its metrics (workflow and
  activity task latencies, failures, poll counts, sticky cache...) on a Prometheus endpoint.
  A client connected with it, and every worker built on that client, report there. It must
  exist before the client connects.
* `temporal_log_fields`: a structlog processor lifting the ids the SDK puts on its
  activity and workflow log records (`temporal_activity` / `temporal_workflow` extras)
  into fields, so even the SDK's own lines ("Completing activity as failed") carry them.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import structlog
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from carflow.settings import Settings

log = structlog.get_logger(__name__)

# Where each id sits in the SDK's log extras -> our field name.
_ACTIVITY_FIELDS = {
    "workflow_id": "workflow_id",
    "workflow_run_id": "workflow_run_id",
    "workflow_type": "workflow_type",
    "activity_id": "activity_id",
    "activity_type": "activity_type",
    "attempt": "activity_attempt",
}
_WORKFLOW_FIELDS = {
    "workflow_id": "workflow_id",
    "run_id": "workflow_run_id",
    "workflow_type": "workflow_type",
}


def metrics_address(settings: Settings) -> str | None:
    if settings.worker_metrics_port == 0:
        return None
    return f"{settings.worker_metrics_host}:{settings.worker_metrics_port}"


def metrics_runtime(settings: Settings) -> Runtime | None:
    """A Runtime serving Prometheus metrics, or None (disabled, or the port is taken).

    A taken port must not keep the worker from working: it logs and runs without metrics.
    """
    address = metrics_address(settings)
    if address is None:
        return None
    try:
        runtime = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))
    except Exception as exc:  # noqa: BLE001 - the SDK reports a bind failure as a bare exception
        log.warning(
            "worker_metrics_unavailable",
            address=address,
            error=str(exc).splitlines()[0][:200],
            hint="set CARFLOW_WORKER_METRICS_PORT to a free port, or 0 to disable",
        )
        return None
    log.info("worker_metrics", url=f"http://{address}/metrics")
    return runtime


def temporal_log_fields(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    record = event.get("_record")
    if record is None:
        return event
    for extra, fields in (("temporal_activity", _ACTIVITY_FIELDS), ("temporal_workflow", _WORKFLOW_FIELDS)):
        details = getattr(record, extra, None)
        if isinstance(details, dict):
            for source, target in fields.items():
                if details.get(source) is not None:
                    event.setdefault(target, details[source])
    return event
