"""The ADV page `/adv` (French): stuck workflows, a retry button each, the latest retries.

Staff have bearer tokens only, so the login form takes the staff token and exchanges it for
a signed session cookie (HttpOnly, SameSite=Lax) naming the token's row: revoking the token
ends the session at the next request. Every form carries a CSRF token bound to the session
(the login form one bound to a nonce cookie), and every POST redirects (303). Without a
valid session, a page raises the redirect to the login form (api/pages.py).
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.adv.service import AdvOperations, Page, recent_audit, retry_and_audit
from api.adv.stuck import BadCursor
from api.adv.visibility import WorkflowsUnseen
from api.deps import SessionDep, SettingsDep, get_clock, get_temporal, get_temporal_or_none
from api.errors import ApiError
from api.pages import PageRedirect
from api.templating import templates
from carflow.formatting import PARIS
from carflow.settings import Settings
from carflow.tokens import hash_token
from db.accounts import Principal
from db.models import AccessToken, AdvAuditEntry, Role

router = APIRouter(prefix="/adv", include_in_schema=False)

SESSION_COOKIE = "carflow_adv"
LOGIN_COOKIE = "carflow_adv_login"
SESSION_MAX_AGE_S = 12 * 3600  # a working day
LOGIN_FORM_MAX_AGE_S = 3600
LOGIN_PAGE = "/adv/login"

CAUSES = {
    "activity_failing": "Activité en échec",
    "activity_paused": "Activité en pause",
    "email_failed": "Envoi d'email abandonné",
    "signing_open": "Signature en attente depuis trop longtemps",
    "workflow_task_failing": "Tâche de workflow en échec (code du worker)",
}
KINDS = {"proposal": "Proposition", "listing": "Annonce"}
STATES = {
    "draft": "brouillon",
    "sent": "envoyée",
    "viewed": "consultée",
    "signing": "en signature",
    "signed": "signée",
    "binding": "définitive",
    "expired": "expirée",
    "withdrawn": "rétractée",
    "declined": "refusée",
    "cancelled": "annulée",
    "pending_survey": "questionnaire à remplir",
    "private": "privée",
    "published": "publiée",
    "sold": "vendue",
    "archived": "archivée",
}
RESULTS = {
    "done": "relance effectuée",
    "not_found": "introuvable",
    "not_running": "workflow terminé, rien à relancer",
    "nothing_to_retry": "rien à relancer",
    "failed": "échec (Temporal n'a pas répondu)",
}


@dataclass(frozen=True)
class StaffSession:
    staff: Principal
    csrf: str


def _serializer(settings: Settings, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt=f"carflow-adv-{purpose}")


def _secure(settings: Settings) -> bool:
    return settings.public_url.startswith("https://")


def _set_cookie(response: Response, settings: Settings, name: str, value: str, max_age: int) -> None:
    """An ADV cookie: sent to /adv only, out of scripts' reach, over HTTPS when served so."""
    response.set_cookie(
        name, value, max_age=max_age, path="/adv", httponly=True, samesite="lax", secure=_secure(settings)
    )


async def current_session(request: Request, session: SessionDep, settings: Settings) -> StaffSession | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        data = _serializer(settings, "session").loads(raw, max_age=SESSION_MAX_AGE_S)
        token_id = uuid.UUID(str(data["token"]))
        csrf = str(data["csrf"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    row = await session.scalar(
        select(AccessToken)
        .where(AccessToken.id == token_id, AccessToken.revoked_at.is_(None))
        .options(selectinload(AccessToken.staff))
    )
    if row is None or row.role != Role.STAFF.value or row.staff is None:
        return None
    return StaffSession(Principal(Role.STAFF, row.staff.id, row.staff.name), csrf)


async def require_staff(request: Request, session: SessionDep, settings: Settings) -> StaffSession:
    """The staff member's session, or the redirect to the login form."""
    staff = await current_session(request, session, settings)
    if staff is None:
        raise PageRedirect(LOGIN_PAGE)
    return staff


def _check_csrf(submitted: str, expected: str) -> None:
    if not submitted or not hmac.compare_digest(submitted, expected):
        raise ApiError(403, "csrf_failed", "Formulaire expiré : rechargez la page et recommencez.")


def _to_login() -> RedirectResponse:
    return RedirectResponse(LOGIN_PAGE, status_code=303)


def _paris(moment: datetime | None) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y %H:%M") if moment else ""


def _render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    base = {"causes": CAUSES, "kinds": KINDS, "states": STATES, "results": RESULTS, "paris": _paris}
    response = templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- login / logout ------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, settings: SettingsDep) -> Response:
    return _login_form(request, settings)


def _login_form(
    request: Request, settings: Settings, error: str | None = None, status_code: int = 200
) -> Response:
    nonce = secrets.token_urlsafe(16)
    response = _render(
        request,
        "adv/login.html",
        {"csrf": _serializer(settings, "login").dumps(nonce), "error": error},
        status_code,
    )
    _set_cookie(response, settings, LOGIN_COOKIE, nonce, LOGIN_FORM_MAX_AGE_S)
    return response


@router.post("/login")
async def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        nonce = _serializer(settings, "login").loads(csrf, max_age=LOGIN_FORM_MAX_AGE_S)
    except BadSignature:
        nonce = None
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not cookie or not hmac.compare_digest(str(nonce), cookie):
        return _login_form(request, settings, "Formulaire expiré : recommencez.", 403)
    row = await session.scalar(
        select(AccessToken)
        .where(AccessToken.token_hash == hash_token(token.strip()), AccessToken.revoked_at.is_(None))
        .options(selectinload(AccessToken.staff))
    )
    if row is None:
        return _login_form(request, settings, "Jeton inconnu ou révoqué.", 401)
    if row.role != Role.STAFF.value or row.staff is None:
        return _login_form(request, settings, "Ce jeton n'est pas celui d'un membre de l'ADV.", 403)
    value = _serializer(settings, "session").dumps({"token": str(row.id), "csrf": secrets.token_urlsafe(24)})
    response = RedirectResponse("/adv", status_code=303)
    _set_cookie(response, settings, SESSION_COOKIE, value, SESSION_MAX_AGE_S)
    response.delete_cookie(LOGIN_COOKIE, path="/adv")
    return response


@router.post("/logout")
async def logout(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    staff = await require_staff(request, session, settings)
    _check_csrf(csrf, staff.csrf)
    response = _to_login()
    response.delete_cookie(SESSION_COOKIE, path="/adv")
    return response


# --- the list and the retry button ---------------------------------------------------------


@router.get("", response_class=HTMLResponse)
async def adv_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    tous: Annotated[bool, Query(description="every running workflow, not only stuck ones")] = False,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    suite: Annotated[str | None, Query(max_length=500, description="the list's next_cursor")] = None,
    relance: Annotated[uuid.UUID | None, Query()] = None,
) -> Response:
    staff = await require_staff(request, session, settings)
    client = await get_temporal_or_none(request)
    found: Page | None = None
    blind = None
    if client is None:
        blind = "impossible de se connecter"
    else:
        operations = AdvOperations(
            settings, session, client, now=await get_clock(request), watch=request.app.state.adv_problems
        )
        try:
            found = await operations.workflows(stuck=not tous, page=page, page_size=50, cursor=suite)
        except WorkflowsUnseen as exc:
            blind = str(exc)
        except BadCursor:
            found = await operations.workflows(stuck=not tous, page=1, page_size=50)
    flash = await session.get(AdvAuditEntry, relance) if relance else None
    recent = await recent_audit(session, limit=20)
    return _render(
        request,
        "adv/index.html",
        {
            "staff": staff.staff,
            "csrf": staff.csrf,
            "page": found,
            "blind": blind,
            "all": tous,
            "flash": flash,
            "audit": recent,
            "settings": settings,
        },
        # Temporal unreachable: the page says it cannot see the workflows, never "none stuck".
        status_code=503 if blind else 200,
    )


def _add_retry_button(kind: str) -> None:
    """The retry button of a workflow of `kind` on the ADV page."""

    async def retry_button(
        request: Request,
        target_id: str,
        session: SessionDep,
        settings: SettingsDep,
        csrf: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        return await _retry_button(request, session, settings, kind, target_id, csrf)

    router.add_api_route(
        f"/{kind}s/{{target_id}}/retry", retry_button, methods=["POST"], name=f"retry_{kind}_button"
    )


for _kind in ("proposal", "listing"):
    _add_retry_button(_kind)


async def _retry_button(
    request: Request, session: SessionDep, settings: Settings, kind: str, target_id: str, csrf: str
) -> Response:
    staff = await require_staff(request, session, settings)
    _check_csrf(csrf, staff.csrf)
    operations = AdvOperations(
        settings,
        session,
        await get_temporal(request),
        now=await get_clock(request),
        watch=request.app.state.adv_problems,
    )
    _, entry = await retry_and_audit(operations, staff.staff, kind, target_id, via="page")
    return RedirectResponse(f"/adv?relance={entry.id}", status_code=303)
