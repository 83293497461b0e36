"""How the API answers an action that is under way (`ActionPending`): it will happen.

* JSON (`/api/...`): `202 Accepted`, a `Location` to poll when the route knows its resource
  (the resource's current state is there) and a `Retry-After`; the body says what is pending.
  Retrying the request attaches to the same update (its id comes from the request).
* Pages: a French "en cours" page that refreshes itself towards the resource's page (or the
  page the form came from), never an error for an action that will happen.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from api.lifecycle_client import ActionPending
from api.templating import templates

RETRY_AFTER_S = 2


def install_pending_handler(app: FastAPI) -> None:
    @app.exception_handler(ActionPending)
    async def pending(request: Request, exc: ActionPending) -> Response:
        if request.url.path.startswith("/api/"):
            headers = {"Retry-After": str(RETRY_AFTER_S)}
            if exc.location:
                headers["Location"] = exc.location
            pending = {
                "status": "pending",
                "kind": exc.kind,
                "id": exc.target_id,
                "event": exc.event,
                "accepted": exc.accepted,
                "message": f"{exc.event} is under way: it will be applied shortly; "
                + (f"poll {exc.location}" if exc.location else "retry the request to follow it"),
                "location": exc.location,
            }
            # The resource as it stands meanwhile, when the route knows it, with what is pending.
            body = {**exc.resource, "pending": pending} if exc.resource is not None else pending
            return JSONResponse(body, status_code=202, headers=headers)
        back = exc.location or _same_site_referer(request) or request.url.path
        return templates.TemplateResponse(
            request,
            "pending.html",
            # A document the worker is still making (the contract to review): "en préparation".
            {"refresh_to": back, "seconds": RETRY_AFTER_S, "preparing": exc.event == "prepare_signing"},
            status_code=202,
            headers={"Cache-Control": "no-store", "Refresh": f"{RETRY_AFTER_S}; url={back}"},
        )


def _same_site_referer(request: Request) -> str | None:
    referer = request.headers.get("referer")
    if not referer:
        return None
    parts = urlsplit(referer)
    if parts.netloc and parts.netloc != request.url.netloc:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")
