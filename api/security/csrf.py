"""CSRF protection.

Forms: every browser gets a random `carflow_csrf` cookie; each form carries
HMAC(secret key, cookie) in a hidden `csrf` field, which a page on another site can neither
read nor compute. A POST whose field does not match is refused with 403.

JSON API (owner endpoints): a browser on another site cannot send `application/json`
without a CORS preflight (which we never grant), so a mutating request is refused when it
comes from another Origin, or uses a form-like content type without a valid
`X-CSRF-Token` header (the token `POST /api/v1/owner/login` returns).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from api.errors import ApiError
from api.security.sessions import secure_cookies
from carflow.settings import Settings

CSRF_COOKIE = "carflow_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
_FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}


def _token_for(settings: Settings, seed: str) -> str:
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, f"owner-csrf:{seed}".encode(), hashlib.sha256).hexdigest()


def _seed(request: Request) -> str | None:
    seed = request.cookies.get(CSRF_COOKIE)
    return seed if seed and 20 <= len(seed) <= 100 else None


def csrf_context(request: Request, settings: Settings) -> tuple[str, str | None]:
    """(form token, new seed to set as cookie or None if the browser has one)."""
    seed = getattr(request.state, "csrf_seed", None) or _seed(request)
    if seed is not None:
        return _token_for(settings, seed), None
    seed = secrets.token_urlsafe(32)
    request.state.csrf_seed = seed
    return _token_for(settings, seed), seed


def set_csrf_cookie(response: Response, settings: Settings, seed: str) -> None:
    response.set_cookie(
        CSRF_COOKIE, seed, httponly=True, samesite="lax", secure=secure_cookies(settings), path="/"
    )


def render_page(
    templates: Jinja2Templates,
    request: Request,
    settings: Settings,
    name: str,
    context: dict[str, Any],
    status_code: int = 200,
) -> Response:
    """A template response with `csrf` in its context, setting the CSRF cookie when new."""
    token, new_seed = csrf_context(request, settings)
    response = templates.TemplateResponse(request, name, {**context, "csrf": token}, status_code=status_code)
    if new_seed is not None:
        set_csrf_cookie(response, settings, new_seed)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def form_token_valid(request: Request, settings: Settings, submitted: str | None) -> bool:
    seed = _seed(request)
    if seed is None or not submitted:
        return False
    return hmac.compare_digest(submitted, _token_for(settings, seed))


def api_token(request: Request, settings: Settings) -> str:
    """The X-CSRF-Token value for this browser (after login)."""
    token, _ = csrf_context(request, settings)
    return token


def check_api_request(request: Request, settings: Settings) -> None:
    """Refuse a cross-site attempt at a mutating JSON endpoint (see the module docstring)."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and not _same_origin(origin, request, settings):
        raise ApiError(403, "csrf_failed", "Cross-origin request refused.")
    header = request.headers.get(CSRF_HEADER)
    if header:
        if not form_token_valid(request, settings, header):
            raise ApiError(403, "csrf_failed", "Invalid X-CSRF-Token header.")
        return
    if origin == "null":
        raise ApiError(403, "csrf_failed", "Cross-origin request refused.")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in _FORM_TYPES:
        raise ApiError(
            403, "csrf_failed", "Send a JSON body (Content-Type: application/json) or an X-CSRF-Token header."
        )


def _same_origin(origin: str, request: Request, settings: Settings) -> bool:
    def key(url: str) -> tuple[str, str, int | None]:
        parts = urlsplit(url)
        default = 443 if parts.scheme == "https" else 80
        return parts.scheme, (parts.hostname or "").lower(), parts.port or default

    try:
        candidate = key(origin)
        return candidate in (key(settings.public_url), key(str(request.base_url)))
    except ValueError:
        return False
