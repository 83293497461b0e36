"""The API side of update deadlines (workflows/update_deadline.py): every update it sends
says when the API stops waiting for the workflow to accept it.

The deadline is a little before the API's own bound (`ACCEPT_MARGIN`), so an update the
workflow accepted in time is reported to the API before it gives up. An update not accepted
by then is refused by the worker when it arrives: the API's `503 action_not_applied` is
true. The header is added by a client interceptor on a client derived from the one the API
holds (same connection), so injected clients (tests) carry it too.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowUpdateInput,
    StartWorkflowUpdateWithStartInput,
)

from workflows.update_deadline import HEADER, deadline_header

ACCEPT_MARGIN_S = 3.0
_ACCEPT_BY: ContextVar[float | None] = ContextVar("carflow_accept_by", default=None)
_DERIVED: weakref.WeakKeyDictionary[Client, Client] = weakref.WeakKeyDictionary()


@contextmanager
def accept_within(seconds: float) -> Iterator[float]:
    """Updates sent inside carry a deadline `seconds - ACCEPT_MARGIN_S` from now (half the
    wait for a short one): always before the API gives up."""
    accept_by = time.time() + seconds - min(ACCEPT_MARGIN_S, abs(seconds) / 2)
    token = _ACCEPT_BY.set(accept_by)
    try:
        yield accept_by
    finally:
        _ACCEPT_BY.reset(token)


class _Outbound(OutboundInterceptor):
    async def start_workflow_update(self, input: StartWorkflowUpdateInput) -> Any:
        input.headers = _with_deadline(input.headers)
        return await super().start_workflow_update(input)

    async def start_update_with_start_workflow(self, input: StartWorkflowUpdateWithStartInput) -> Any:
        update = input.update_workflow_input
        update.headers = _with_deadline(update.headers)
        return await super().start_update_with_start_workflow(input)


def _with_deadline(headers: Mapping[str, Payload]) -> Mapping[str, Payload]:
    accept_by = _ACCEPT_BY.get()
    return headers if accept_by is None else {**headers, HEADER: deadline_header(accept_by)}


class DeadlineHeaders(Interceptor):
    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Outbound(next)


def with_deadlines(client: Client) -> Client:
    """`client` with the deadline header on its updates (the same connection), made once."""
    derived = _DERIVED.get(client)
    if derived is None:
        config = client.config()
        if any(isinstance(interceptor, DeadlineHeaders) for interceptor in config["interceptors"]):
            return client
        config["interceptors"] = [*config["interceptors"], DeadlineHeaders()]
        derived = _DERIVED[client] = Client(**config)
    return derived
