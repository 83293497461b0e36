"""Logging in and out of the dealer's web app: `/vendeur/connexion`, `/vendeur/deconnexion`.

The forms post back here and redirect (303). A wrong email or password gets the same
French message whatever was wrong (no account enumeration), next to the field and at the
top; too many failed attempts from one address get the 429 page (successful ones do not
count: a dealership's staff share an address), too many on one account lock it for a while
(api/security/passwords.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.body_limit import body_limited_route
from api.dealer_app.deps import (
    CSRF_FAILED_FR,
    HOME,
    LOGIN,
    DealerPageDep,
    redirect,
    render_page,
    safe_next,
)
from api.dealer_app.sessions import DEALER_SESSIONS, session_user
from api.dealer_app.users import authenticate
from api.deps import ClockDep, SessionDep, SettingsDep
from api.security import csrf, rate_limit
from api.security.passwords import LoginFailed, missing_credentials

router = APIRouter(prefix="/vendeur", include_in_schema=False, route_class=body_limited_route(32 * 1024))

TOO_MANY_FR = (
    "Trop de tentatives de connexion depuis votre connexion Internet. Patientez quelques minutes "
    "avant de réessayer."
)


def login_page(request: Request, context: dict[str, Any], status_code: int = 200) -> Response:
    return render_page(request, request.app.state.settings, "vendeur/login.html", context, status_code)


@router.get("")
@router.get("/")
async def home(request: Request, session: SessionDep, clock: ClockDep) -> Response:
    return redirect(HOME if await session_user(request, session, clock()) else LOGIN)


@router.get("/connexion")
async def login_form(request: Request, session: SessionDep, clock: ClockDep) -> Response:
    suite = safe_next(request.query_params.get("suite"))
    if await session_user(request, session, clock()) is not None:
        return redirect(suite)
    return login_page(request, {"suite": suite})


@router.post("/connexion")
async def login(request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep) -> Response:
    form = await request.form()
    email = str(form.get("email") or "").strip()[:320]
    password = str(form.get("password") or "")
    suite = safe_next(str(form.get("suite") or ""))
    context: dict[str, Any] = {"email": email, "suite": suite}
    if not csrf.form_token_valid(request, settings, str(form.get(csrf.CSRF_FIELD) or "")):
        return login_page(request, {**context, "error": CSRF_FAILED_FR}, 403)
    missing = missing_credentials(email, password)
    if missing:
        return login_page(request, {**context, "field_errors": missing}, 422)
    address = rate_limit.client_ip(request.client)
    verdict = await rate_limit.peek(session, rate_limit.DEALER_LOGIN_FAILURES_PER_IP, address, clock())
    if not verdict.allowed:
        response = login_page(request, {**context, "error": TOO_MANY_FR}, 429)
        response.headers["Retry-After"] = str(verdict.retry_after_s)
        return response
    try:
        user = await authenticate(session, email, password, clock(), settings)
    except LoginFailed as failed:
        await rate_limit.hit(session, rate_limit.DEALER_LOGIN_FAILURES_PER_IP, address, clock())
        message = failed.message_fr
        return login_page(
            request,
            {**context, "error": message, "field_errors": {"password": message}},
            429 if failed.kind == "locked" else 401,
        )
    response = redirect(suite)
    await DEALER_SESSIONS.start(response, settings, session, user.id, clock())
    # A fresh CSRF secret for the logged-in session.
    response.delete_cookie(csrf.CSRF_COOKIE, path="/")
    return response


@router.post("/deconnexion")
async def logout(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    form = await request.form()
    if not csrf.form_token_valid(request, settings, str(form.get(csrf.CSRF_FIELD) or "")):
        return login_page(request, {"error": CSRF_FAILED_FR}, 403)
    response = redirect(LOGIN, "deconnecte")
    await DEALER_SESSIONS.end(request, response, settings, session)
    return response


@router.get("/compte")
async def account(ctx: DealerPageDep) -> Response:
    """Who is logged in, for which centre (the menu's user name links here)."""
    return ctx.render("vendeur/account.html")
