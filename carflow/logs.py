"""Structured logs: one JSON object per line (or readable console lines in dev).

Standard-library loggers (uvicorn, temporalio, alembic) go through the same renderer so a
log shipper sees one format.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from carflow.observability import temporal_log_fields
from carflow.settings import Settings

_SHARED: list[structlog.typing.Processor] = [
    structlog.contextvars.merge_contextvars,
    # workflow_id/workflow_run_id of the SDK's activity and workflow log records.
    temporal_log_fields,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.StackInfoRenderer(),
]


# The PDF toolchain's loggers, kept at WARNING (their problems still show).
PDF_LIBRARIES = ("weasyprint", "fontTools")


def configure_logging(settings: Settings, *, service: str) -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            _add_service(service),
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Our request middleware logs each request with more context than uvicorn's access log.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # httpx logs every request URL at INFO; ours may carry tokens (SMS provider, DocuSign).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # A PDF's layout logs each of WeasyPrint's steps and fontTools each table it subsets, at
    # INFO: a score of lines per document, rendered as JSON by the worker, saying nothing
    # an operator needs.
    for name in PDF_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)


def _add_service(service: str) -> structlog.typing.Processor:
    def processor(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        event.setdefault("service", service)
        return event

    return processor
