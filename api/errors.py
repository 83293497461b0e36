"""The API's one error format: {"error": {"code", "message", ...}} with a fitting status.

Every failure a client can cause maps to a 4xx here; anything else is logged with its
traceback and answered 500 without internals.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.templating import templates
from carflow.links import adv_mailto

log = structlog.get_logger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    503: "unavailable",
}


class ApiError(Exception):
    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.headers = headers
        self.details = details


def error_body(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **details}}


def _field_name(loc: tuple[Any, ...]) -> str:
    # ("body", "buyer", "email") -> "buyer.email"; query/path parameters keep their name.
    parts = [str(p) for p in loc]
    if parts and parts[0] == "query":
        return parts[1] if len(parts) > 1 else "query"  # `state`, also for a repeated one's item
    if parts and parts[0] in ("body", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


# The people's pages (buyer, owner space, public listings, shared report): an error there is
# a French page with whom to contact, never the API's JSON.
PAGE_PREFIXES = ("/p/", "/espace", "/annonces", "/r/", "/vendeur")
# The dealer app's error page names ADV (whom the seed tells dealers to write to), not support.
DEALER_APP_PREFIX = "/vendeur"
_PAGE_MESSAGES = {
    404: "Cette page n'existe pas ou n'est plus disponible.",
    429: "Trop de demandes en peu de temps : patientez quelques minutes puis réessayez.",
    503: "Le service est momentanément indisponible. Réessayez dans quelques minutes.",
}
_PAGE_DEFAULT = "Votre demande n'a pas pu être traitée."
_PAGE_INTERNAL = "Une erreur inattendue s'est produite ; elle a été enregistrée. Réessayez plus tard."


def is_page(request: Request) -> bool:
    return request.url.path.startswith(PAGE_PREFIXES)


def page_error(
    request: Request, status_code: int, headers: dict[str, str] | None = None, message_fr: str | None = None
) -> Response:
    """The French error page of `status_code` (or `message_fr`), with the support's contact."""
    settings = request.app.state.settings
    if message_fr:
        message = message_fr
    elif status_code >= 500:
        message = _PAGE_MESSAGES.get(status_code, _PAGE_INTERNAL)
    else:
        message = _PAGE_MESSAGES.get(status_code, _PAGE_DEFAULT)
    if request.url.path.startswith(DEALER_APP_PREFIX):
        return templates.TemplateResponse(
            request,
            "vendeur/error.html",
            {
                "message": message,
                "adv_email": settings.adv_email,
                "adv_mailto": adv_mailto(settings, None, message),
            },
            status_code=status_code,
            headers={**(headers or {}), "Cache-Control": "no-store"},
        )
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "message": message,
            "support_email": settings.support_email,
            "support_phone": settings.support_phone,
        },
        status_code=status_code,
        headers={**(headers or {}), "Cache-Control": "no-store"},
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        if is_page(request):
            return page_error(request, exc.status_code, exc.headers, exc.details.get("message_fr"))
        return JSONResponse(
            error_body(exc.code, exc.message, **exc.details),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [{"field": _field_name(tuple(err["loc"])), "message": err["msg"]} for err in exc.errors()]
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
        # The edge's code for control characters (api/control_chars.py), whichever caught them.
        code = (
            "control_character"
            if any(err.get("type") == "control_character" for err in exc.errors())
            else "validation_error"
        )
        return JSONResponse(
            error_body(code, f"Invalid request: {summary}", fields=fields),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if is_page(request):
            return page_error(request, exc.status_code, getattr(exc, "headers", None))
        message = exc.detail if isinstance(exc.detail, str) else "Request failed"
        return JSONResponse(
            error_body(_CODES.get(exc.status_code, "error"), message),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled_error", path=request.url.path)
        if is_page(request):
            return page_error(request, 500)
        return JSONResponse(
            error_body("internal_error", "Internal error; it has been logged."),
            status_code=500,
        )
