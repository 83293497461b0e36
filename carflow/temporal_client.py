"""Connecting to Temporal from Settings, with patience at start-up and clear failures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import structlog
from temporalio.client import Client, TLSConfig
from temporalio.runtime import Runtime

from carflow.settings import Settings

log = structlog.get_logger(__name__)


class TemporalUnreachable(Exception):
    """Temporal did not answer in time; the message names the setting to check."""


def _tls(settings: Settings) -> TLSConfig | bool:
    if settings.temporal_tls_cert and settings.temporal_tls_key:
        return TLSConfig(
            client_cert=settings.temporal_tls_cert.read_bytes(),
            client_private_key=settings.temporal_tls_key.read_bytes(),
        )
    return settings.temporal_tls or settings.temporal_api_key is not None


async def connect(
    settings: Settings, *, attempt_timeout_s: float = 5.0, runtime: Runtime | None = None
) -> Client:
    """One connection attempt; raises TemporalUnreachable with a one-line reason.

    `runtime`: the SDK runtime (e.g. one exporting Prometheus metrics); the default one if None.
    """
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    try:
        return await asyncio.wait_for(
            Client.connect(
                settings.temporal_address,
                namespace=settings.temporal_namespace,
                tls=_tls(settings),
                api_key=api_key,
                runtime=runtime,
            ),
            timeout=attempt_timeout_s,
        )
    except (TimeoutError, RuntimeError) as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else _short_reason(exc)
        raise TemporalUnreachable(
            f"cannot reach Temporal at CARFLOW_TEMPORAL_ADDRESS={settings.temporal_address} "
            f"(namespace {settings.temporal_namespace}): {reason}"
        ) from None


async def connect_with_retry(
    settings: Settings,
    *,
    deadline_s: float | None = None,
    on_retry: Callable[[str, float], None] | None = None,
    runtime: Runtime | None = None,
) -> Client:
    """Keep trying while Temporal starts (make run starts everything at once)."""
    deadline = time.monotonic() + (deadline_s or settings.temporal_connect_timeout_s)
    delay = 0.5
    while True:
        try:
            return await connect(settings, runtime=runtime)
        except TemporalUnreachable as exc:
            if time.monotonic() + delay > deadline:
                raise
            if on_retry:
                on_retry(str(exc), delay)
            else:
                log.warning("temporal_not_ready", reason=str(exc), retry_in_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def _short_reason(exc: BaseException) -> str:
    text = str(exc)
    for known in ("Connection refused", "dns error", "No route to host", "timed out"):
        if known.lower() in text.lower():
            return known.lower()
    return text.splitlines()[0][:200]
