"""Passwords of dealer users: forgotten, chosen from a one-time link, changed.

* `/vendeur/mot-de-passe/oublie`: the same answer whether the email is known or not (the
  mail, if any, goes after the answer); rate-limited per address and per email.
* `/vendeur/mot-de-passe/{token}`: the link `carflow dealer user add` prints (`set`) or the
  reset email carries (`reset`); choosing the password spends it and every other pending
  link, unlocks the account and ends every session.
* `/vendeur/compte/mot-de-passe`: a logged-in user changes theirs (the current one asked);
  every other session ends, this browser gets a new one.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import Response
from sqlalchemy import select

from activities.email_types import EmailInput
from api.body_limit import body_limited_route
from api.dealer_app.deps import CSRF_FAILED_FR, LOGIN, DealerFormDep, DealerPageDep, redirect, render_page
from api.dealer_app.sessions import DEALER_SESSIONS
from api.dealer_app.users import (
    RESET_LINK_VALIDITY,
    find_password_token,
    issue_password_token,
    set_password,
)
from api.deps import ClockDep, SessionDep, SettingsDep
from api.security import csrf, rate_limit
from api.security.account_mail import send_account_mail
from api.security.passwords import normalize_email, password_problem
from carflow.links import dealer_password_url
from carflow.password_hashing import MIN_PASSWORD_LENGTH, verify_password
from db.models import Dealer, DealerUser

router = APIRouter(prefix="/vendeur", include_in_schema=False, route_class=body_limited_route(32 * 1024))

TOO_MANY_RESETS_FR = "Trop de demandes : patientez une heure avant d'en faire une nouvelle."
WRONG_CURRENT_FR = "Ce n'est pas votre mot de passe actuel."


@router.get("/mot-de-passe/oublie")
async def forgot_form(request: Request) -> Response:
    return render_page(request, request.app.state.settings, "vendeur/forgot.html", {})


@router.post("/mot-de-passe/oublie")
async def forgot(
    request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep, background: BackgroundTasks
) -> Response:
    form = await request.form()
    email = normalize_email(str(form.get("email") or ""))[:320]

    def again(status: int, **context: Any) -> Response:
        return render_page(request, settings, "vendeur/forgot.html", {"email": email, **context}, status)

    if not csrf.form_token_valid(request, settings, str(form.get(csrf.CSRF_FIELD) or "")):
        return again(403, error=CSRF_FAILED_FR)
    if "@" not in email:
        return again(422, field_errors={"email": "Indiquez une adresse e-mail valide."})
    now = clock()
    # Counted apart from the owner space's requests for the same address ("vendeur:").
    address = rate_limit.client_ip(request.client)
    if not await rate_limit.reset_request_allowed(session, address, f"vendeur:{email}", now):
        return again(429, error=TOO_MANY_RESETS_FR)
    found = (
        await session.execute(
            select(DealerUser, Dealer)
            .join(Dealer, Dealer.id == DealerUser.dealer_id)
            .where(DealerUser.email == email, DealerUser.disabled_at.is_(None))
        )
    ).first()
    if found is not None:
        user, dealer = found
        token = await issue_password_token(session, user, "reset", now)
        mail = EmailInput(
            idempotency_key=f"dealer-user-{user.id}:password-reset:{token[:16]}",
            template="dealer_password_reset",
            to=[user.email],
            context={
                "name": user.name,
                "dealer_name": dealer.name,
                "reset_url": dealer_password_url(settings, token),
                "valid_minutes": int(RESET_LINK_VALIDITY.total_seconds() // 60),
            },
        )
        # After the answer: the page says the same, as fast, whether the email is known or not.
        background.add_task(send_account_mail, request.app.state.session_factory, settings, mail)
    return render_page(request, settings, "vendeur/forgot.html", {"sent": True})


def link_page(request: Request, token: str, context: dict[str, Any], status_code: int = 200) -> Response:
    response = render_page(
        request,
        request.app.state.settings,
        "vendeur/password.html",
        {"token": token, "min_length": MIN_PASSWORD_LENGTH, **context},
        status_code,
    )
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    return response


@router.get("/mot-de-passe/{token}")
async def link_form(request: Request, token: str, session: SessionDep, clock: ClockDep) -> Response:
    row = await find_password_token(session, token, clock())
    if row is None:
        return link_page(request, token, {"invalid": True}, 404)
    return link_page(request, token, {"purpose": row.purpose})


@router.post("/mot-de-passe/{token}")
async def link_submit(
    request: Request, token: str, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> Response:
    form = await request.form()
    if not csrf.form_token_valid(request, settings, str(form.get(csrf.CSRF_FIELD) or "")):
        return link_page(request, token, {"error": CSRF_FAILED_FR}, 403)
    now = clock()
    row = await find_password_token(session, token, now)
    if row is None:
        return link_page(request, token, {"invalid": True}, 404)
    password = str(form.get("password") or "")
    problem = password_problem(password, str(form.get("confirmation") or ""))
    if problem is not None:
        errors = {problem.field: problem.message_fr}
        return link_page(request, token, {"purpose": row.purpose, "field_errors": errors}, 422)
    user = await session.get(DealerUser, row.user_id)
    assert user is not None  # foreign key
    await set_password(session, user, password, now, settings)
    return redirect(LOGIN, "mot-de-passe")


@router.get("/compte/mot-de-passe")
async def change_form(ctx: DealerPageDep) -> Response:
    return ctx.render("vendeur/change_password.html", {"min_length": MIN_PASSWORD_LENGTH})


@router.post("/compte/mot-de-passe")
async def change(ctx: DealerFormDep) -> Response:
    current = ctx.field("current", 1000, strip=False)
    password = ctx.field("password", 1000, strip=False)
    context: dict[str, Any] = {"min_length": MIN_PASSWORD_LENGTH}
    errors: dict[str, str] = {}
    ok = await asyncio.to_thread(verify_password, current, ctx.user.password_hash, ctx.settings)
    if not ok:
        errors["current"] = WRONG_CURRENT_FR
    problem = password_problem(password, ctx.field("confirmation", 1000, strip=False))
    if problem is not None:
        errors[problem.field] = problem.message_fr
    if errors:
        return ctx.render("vendeur/change_password.html", {**context, "field_errors": errors}, 422)
    now = ctx.clock()
    await set_password(ctx.session, ctx.user, password, now, ctx.settings)
    # Every session ended with the old password, this one too: this browser gets a new one.
    response = redirect("/vendeur/compte", "mot-de-passe-change")
    await DEALER_SESSIONS.start(response, ctx.settings, ctx.session, ctx.user.id, now)
    return response
