"""The owner's space, `/espace`: French pages, server-rendered, usable without JavaScript.

Log in (email + password), "Mes expertises", the satisfaction survey before anything else,
then per listing: user guide, report PDF, sharing the report (pre-written message), the
report's URL, editing the listing (0 € saves with a warning), the detailed listing as the
public sees it (with the "invisible" banner when it is not public), and log out.

Every form carries a CSRF token; a POST without a valid one is refused (403). Forms post
back here and redirect (303), so a reload never submits twice; invalid input re-renders
the form with a message per field (422). The pages' context (api/owners/deps.py) raises the
redirect to the login form and the space's error page (api/pages.py).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import structlog
from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from activities.email_types import EmailInput
from api.body_limit import body_limited_route
from api.deps import ClockDep, SessionDep, SettingsDep
from api.errors import ApiError
from api.lifecycle_client import EventRefused
from api.listings.schemas import MAX_MESSAGE_LENGTH, MIN_CONTACT_MESSAGE_LENGTH
from api.listings.service import Row, lifecycle_of, owner_may_publish
from api.listings.views import detail_view, page_view
from api.owners.auth import (
    RESET_TOKEN_VALIDITY,
    authenticate_owner,
    find_reset_token,
    issue_reset_token,
    reset_password,
)
from api.owners.deps import Page, error_page, space_context
from api.owners.schemas import SURVEY_LABELS, ListingPatch, ShareBody, SurveyBody
from api.owners.service import owner_rows
from api.owners.views import PRICE_MISSING_FR, report_pdf_response
from api.security import csrf, rate_limit
from api.security.account_mail import send_account_mail
from api.security.passwords import LoginFailed, missing_credentials, normalize_email, password_problem
from api.security.sessions import end_session, session_owner, start_session
from api.templating import templates
from carflow.links import owner_password_reset_url, report_url
from carflow.password_hashing import MIN_PASSWORD_LENGTH
from carflow.settings import Settings
from db.models import Owner
from statemachines.listing import Actor, ListingEvent
from workflows.listing_contract import MAX_PRICE_CENTS, SURVEY_LEVELS

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/espace", include_in_schema=False, route_class=body_limited_route(32 * 1024))

SURVEY_QUESTIONS_FR = (
    "Prise de rendez-vous et accueil",
    "Ponctualité et déroulement de l'expertise",
    "Clarté des explications de l'expert",
    "Qualité et lisibilité du rapport d'expertise",
)
CSRF_FAILED_FR = (
    "Ce formulaire a expiré ou n'a pas été envoyé depuis ce site. Rechargez la page et recommencez."
)


# --- helpers ---------------------------------------------------------------------------------


def page(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200, owner: Owner | None = None
) -> Response:
    settings: Settings = request.app.state.settings
    return csrf.render_page(
        templates, request, settings, name, space_context(request, context, owner), status_code
    )


def redirect(path: str, ok: str | None = None) -> Response:
    return RedirectResponse(f"{path}?ok={ok}" if ok else path, status_code=303)


def safe_next(value: str | None) -> str:
    """Only our own pages: no open redirect to another site."""
    if value and value.startswith("/espace/") and "//" not in value and "\\" not in value:
        return value
    return "/espace/expertises"


def french_errors(exc: ValidationError, messages: dict[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"])
        prefix = field.split(".")[0]
        found.setdefault(field, messages.get(field) or messages.get(prefix) or "Valeur invalide.")
    return found


def parse_euros(text: str) -> int | None:
    """ "12 900", "12900,50", "12 900 €" → cents; None when it is not an amount."""
    cleaned = (
        text.replace("€", "").replace("\u202f", "").replace("\u00a0", "").replace(" ", "").replace(",", ".")
    )
    if cleaned == "":
        return 0
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        return None
    return int(amount * 100)


def item_of(row: Row, now: datetime) -> dict[str, Any]:
    """The listing as the owner's pages show it, with what the machine lets the owner do next."""
    lifecycle = lifecycle_of(row.listing)
    return {
        **page_view(row),
        "survey_pending": lifecycle.can(ListingEvent.COMPLETE_SURVEY, now=now, actor=Actor.OWNER),
        "editable": lifecycle.can(ListingEvent.EDIT, now=now, actor=Actor.OWNER),
    }


# --- login, logout, password reset ---------------------------------------------------------------


@router.get("")
@router.get("/")
async def home(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    owner = await session_owner(request, session, settings)
    return redirect("/espace/expertises" if owner else "/espace/connexion")


@router.get("/connexion")
async def login_form(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    if await session_owner(request, session, settings) is not None:
        return redirect(safe_next(request.query_params.get("suite")))
    return page(request, "espace/login.html", {"suite": safe_next(request.query_params.get("suite"))})


@router.post("/connexion")
async def login(request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep) -> Response:
    form = await request.form()
    email = str(form.get("email") or "").strip()[:320]
    password = str(form.get("password") or "")
    suite = safe_next(str(form.get("suite") or ""))
    context: dict[str, Any] = {"email": email, "suite": suite}
    if not csrf.form_token_valid(request, settings, str(form.get("csrf") or "")):
        return page(request, "espace/login.html", {**context, "error": CSRF_FAILED_FR}, 403)
    missing = missing_credentials(email, password)
    if missing:
        return page(request, "espace/login.html", {**context, "field_errors": missing}, 422)
    verdict = await rate_limit.hit(
        session, rate_limit.LOGIN_PER_IP, rate_limit.client_ip(request.client), clock()
    )
    if not verdict.allowed:
        error = "Trop de tentatives de connexion depuis votre connexion Internet. Patientez quelques minutes."
        return page(request, "espace/login.html", {**context, "error": error}, 429)
    try:
        owner = await authenticate_owner(session, email, password, clock(), settings)
    except LoginFailed as failed:
        return page(
            request,
            "espace/login.html",
            {**context, "error": failed.message_fr},
            429 if failed.kind == "locked" else 401,
        )
    response = redirect(suite)
    await start_session(response, settings, session, owner, clock())
    # A fresh CSRF secret for the logged-in session.
    response.delete_cookie(csrf.CSRF_COOKIE, path="/")
    return response


@router.post("/deconnexion")
async def logout(request: Request, settings: SettingsDep, session: SessionDep) -> Response:
    form = await request.form()
    if not csrf.form_token_valid(request, settings, str(form.get("csrf") or "")):
        raise error_page(request, 403, CSRF_FAILED_FR, back="/espace/expertises")
    response = redirect("/espace/connexion", "deconnecte")
    await end_session(request, response, settings, session)
    return response


@router.get("/mot-de-passe-oublie")
async def forgot_form(request: Request) -> Response:
    return page(request, "espace/forgot.html", {})


@router.post("/mot-de-passe-oublie")
async def forgot(
    request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep, background: BackgroundTasks
) -> Response:
    form = await request.form()
    email = normalize_email(str(form.get("email") or ""))[:320]
    if not csrf.form_token_valid(request, settings, str(form.get("csrf") or "")):
        return page(request, "espace/forgot.html", {"email": email, "error": CSRF_FAILED_FR}, 403)
    if "@" not in email:
        errors = {"email": "Indiquez une adresse e-mail valide."}
        return page(request, "espace/forgot.html", {"email": email, "field_errors": errors}, 422)
    now = clock()
    if not await rate_limit.reset_request_allowed(session, rate_limit.client_ip(request.client), email, now):
        error = "Trop de demandes : patientez une heure avant d'en faire une nouvelle."
        return page(request, "espace/forgot.html", {"email": email, "error": error}, 429)
    owner = await session.scalar(select(Owner).where(Owner.email == email))
    if owner is not None:
        token = await issue_reset_token(session, owner, now)
        mail = EmailInput(
            idempotency_key=f"owner-{owner.id}:password-reset:{token[:16]}",
            template="owner_password_reset",
            to=[owner.email],
            context={
                "first_name": owner.first_name,
                "reset_url": owner_password_reset_url(settings, token),
                "valid_minutes": int(RESET_TOKEN_VALIDITY.total_seconds() // 60),
            },
        )
        # After the answer: the page says the same, as fast, whether the email is known or not.
        background.add_task(send_account_mail, request.app.state.session_factory, settings, mail)
    return page(request, "espace/forgot.html", {"sent": True})


@router.get("/mot-de-passe/{token}")
async def reset_form(request: Request, token: str, session: SessionDep, clock: ClockDep) -> Response:
    row = await find_reset_token(session, token, clock())
    context = {"token": token, "invalid": row is None, "min_length": MIN_PASSWORD_LENGTH}
    response = page(request, "espace/reset.html", context, 200 if row else 404)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.post("/mot-de-passe/{token}")
async def reset(
    request: Request, token: str, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> Response:
    form = await request.form()
    context: dict[str, Any] = {"token": token, "min_length": MIN_PASSWORD_LENGTH}
    if not csrf.form_token_valid(request, settings, str(form.get("csrf") or "")):
        return page(request, "espace/reset.html", {**context, "error": CSRF_FAILED_FR}, 403)
    now = clock()
    row = await find_reset_token(session, token, now)
    if row is None:
        return page(request, "espace/reset.html", {**context, "invalid": True}, 404)
    password = str(form.get("password") or "")
    problem = password_problem(password, str(form.get("confirmation") or ""))
    if problem is not None:
        return page(
            request,
            "espace/reset.html",
            {**context, "field_errors": {problem.field: problem.message_fr}},
            422,
        )
    await reset_password(session, row, password, now, settings)
    return redirect("/espace/connexion", "reinitialise")


# --- Mes expertises and the survey ----------------------------------------------------------------


@router.get("/expertises")
async def my_inspections(ctx: Page) -> Response:
    rows = await owner_rows(ctx.session, ctx.owner.id)
    return page(
        ctx.request,
        "espace/expertises.html",
        {"items": [item_of(r, ctx.clock()) for r in rows]},
        owner=ctx.owner,
    )


@router.get("/cgu")
async def terms(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    return page(request, "espace/cgu.html", {}, owner=await session_owner(request, session, settings))


def survey_context(row: Row, now: datetime, **extra: Any) -> dict[str, Any]:
    levels = [(code, SURVEY_LABELS[code]) for code in SURVEY_LEVELS]
    return {"item": item_of(row, now), "questions": SURVEY_QUESTIONS_FR, "levels": levels, **extra}


@router.get("/annonces/{listing_id}/questionnaire")
async def survey_form(listing_id: str, ctx: Page) -> Response:
    row = await ctx.listing(listing_id, surveyed=False)
    if lifecycle_of(row.listing).surveyed():
        return redirect(f"/espace/annonces/{row.listing.id}")
    return page(ctx.request, "espace/survey.html", survey_context(row, ctx.clock()), owner=ctx.owner)


SURVEY_ERRORS_FR = {
    **{f"answers.{i}": f"Choisissez une réponse pour la question {i + 1}." for i in range(4)},
    "answers": "Répondez aux 4 questions.",
    "publish": "Indiquez si vous souhaitez publier votre annonce.",
    "cgu_accepted": "Vous devez accepter les conditions générales d'utilisation pour continuer.",
}


@router.post("/annonces/{listing_id}/questionnaire")
async def survey(listing_id: str, ctx: Page) -> Response:
    row = await ctx.listing(listing_id, surveyed=False)
    form = await ctx.request.form()
    values = {k: str(v) for k, v in form.items() if k != "csrf"}

    def form_again(status_code: int, **problem: Any) -> Response:
        """The survey as the owner filled it, saying what went wrong."""
        context = survey_context(row, ctx.clock(), form=values, **problem)
        return page(ctx.request, "espace/survey.html", context, status_code, ctx.owner)

    if not ctx.csrf_ok(form):
        return form_again(403, error=CSRF_FAILED_FR)
    if lifecycle_of(row.listing).surveyed():
        return redirect(f"/espace/annonces/{row.listing.id}")
    publish = {"yes": True, "no": False}.get(values.get("publish", ""))
    try:
        body = SurveyBody.model_validate(
            {
                "answers": [values.get(f"answer_{i}") for i in range(4)],
                "publish": publish,
                "cgu_accepted": values.get("cgu_accepted") == "yes",
            }
        )
    except ValidationError as exc:
        return form_again(422, field_errors=french_errors(exc, SURVEY_ERRORS_FR))
    try:
        await ctx.service.complete_survey(row.listing.id, body)
    except EventRefused:
        return redirect(f"/espace/annonces/{row.listing.id}")
    except ApiError as err:
        raise ctx.refused(err) from None
    return redirect(f"/espace/annonces/{row.listing.id}", "questionnaire")


# --- one listing: hub, guide, report, share, edit, preview ------------------------------------------


def can_edit(ctx: Page, row: Row) -> bool:
    return lifecycle_of(row.listing).can(ListingEvent.EDIT, now=ctx.clock(), actor=Actor.OWNER)


def price_warning(row: Row) -> str | None:
    return PRICE_MISSING_FR if row.listing.price_cents == 0 else None


@router.get("/annonces/{listing_id}")
async def listing_home(listing_id: str, ctx: Page) -> Response:
    row = await ctx.listing(listing_id)
    context = {
        "item": item_of(row, ctx.clock()),
        "report_url": report_url(ctx.settings, row.inspection.id),
        "price_warning": price_warning(row) if can_edit(ctx, row) else None,
    }
    return page(ctx.request, "espace/hub.html", context, owner=ctx.owner)


@router.get("/annonces/{listing_id}/mode-d-emploi")
async def guide(listing_id: str, ctx: Page) -> Response:
    row = await ctx.listing(listing_id)
    return page(ctx.request, "espace/guide.html", {"item": item_of(row, ctx.clock())}, owner=ctx.owner)


@router.get("/annonces/{listing_id}/rapport.pdf")
async def report_pdf(listing_id: str, ctx: Page) -> Response:
    row = await ctx.listing(listing_id)
    return report_pdf_response(*await ctx.service.report_pdf(row.listing.id))


def default_share_message(row: Row, owner: Owner) -> str:
    item = page_view(row)
    return (
        "Bonjour,\n\n"
        f"Je vends mon véhicule {item['title']} ({item['year']}, {item['mileage']}). "
        f"Il a été expertisé le {item['inspected_on']} par un expert automobile indépendant : "
        "vous trouverez ci-joint le rapport d'expertise détaillé, avec l'état de chaque point contrôlé.\n\n"
        "Je reste à votre disposition pour toute question ou pour organiser un essai.\n\n"
        f"Cordialement,\n{owner.first_name} {owner.last_name}"
    )


SHARE_ERRORS_FR = {
    "email": "Indiquez une adresse e-mail valide.",
    "message": f"Le message doit contenir entre 1 et {MAX_MESSAGE_LENGTH} caractères.",
}


def share_context(row: Row, owner: Owner, now: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "item": item_of(row, now),
        "default_message": default_share_message(row, owner),
        "max_length": MAX_MESSAGE_LENGTH,
        **extra,
    }


@router.get("/annonces/{listing_id}/partager")
async def share_form(listing_id: str, ctx: Page) -> Response:
    row = await ctx.listing(listing_id)
    return page(ctx.request, "espace/share.html", share_context(row, ctx.owner, ctx.clock()), owner=ctx.owner)


@router.post("/annonces/{listing_id}/partager")
async def share(listing_id: str, ctx: Page) -> Response:
    row = await ctx.listing(listing_id)
    form = await ctx.request.form()
    values = {"email": str(form.get("email") or "").strip(), "message": str(form.get("message") or "")}

    def form_again(status_code: int, **problem: Any) -> Response:
        """The form as the owner filled it, saying what went wrong."""
        context = share_context(row, ctx.owner, ctx.clock(), form=values, **problem)
        return page(ctx.request, "espace/share.html", context, status_code, ctx.owner)

    if not ctx.csrf_ok(form):
        return form_again(403, error=CSRF_FAILED_FR)
    try:
        body = ShareBody.model_validate(values)
    except ValidationError as exc:
        return form_again(422, field_errors=french_errors(exc, SHARE_ERRORS_FR))
    try:
        await ctx.service.share(row.listing.id, body)
    except ApiError as err:
        if err.status_code == 429:
            return form_again(
                429, error="Vous avez envoyé beaucoup de rapports aujourd'hui : réessayez demain."
            )
        raise ctx.refused(err) from None
    return redirect(f"/espace/annonces/{row.listing.id}", "partage")


EDIT_ERRORS_FR = {
    "price_cents": "Indiquez un prix en euros (par exemple 12 900), positif ou 0, sans dépasser 10 millions.",
    "location": "Le lieu doit faire au plus 200 caractères, sur une seule ligne.",
    "published": "Choix de publication invalide.",
    "negotiable": "Choix de négociation invalide.",
}


def edit_context(row: Row, now: datetime, form: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    listing = row.listing
    if form is None:
        whole, cents = divmod(listing.price_cents, 100)
        form = {
            "published": lifecycle_of(listing).published.is_active,
            "price": f"{whole}" if cents == 0 else f"{whole},{cents:02d}",
            "negotiable": listing.negotiable,
            "location": listing.location,
        }
    return {"item": item_of(row, now), "form": form, "price_warning": price_warning(row), **extra}


@router.get("/annonces/{listing_id}/modifier")
async def edit_form(listing_id: str, ctx: Page) -> Response:
    row = await ctx.listing(listing_id)
    if not can_edit(ctx, row):
        return redirect(f"/espace/annonces/{row.listing.id}")
    return page(ctx.request, "espace/edit.html", edit_context(row, ctx.clock()), owner=ctx.owner)


@router.post("/annonces/{listing_id}/modifier")
async def edit(listing_id: str, ctx: Page) -> Response:
    row = await ctx.listing(listing_id)
    form = await ctx.request.form()
    values = {
        "published": form.get("published") == "yes",
        "price": str(form.get("price") or "0").strip()[:40],
        "negotiable": form.get("negotiable") == "yes",
        "location": str(form.get("location") or ""),
    }
    sold = form.get("sold") == "yes"

    def form_again(status_code: int, **problem: Any) -> Response:
        """The form as the owner filled it, saying what went wrong."""
        context = edit_context(row, ctx.clock(), values, **problem)
        return page(ctx.request, "espace/edit.html", context, status_code, ctx.owner)

    if not ctx.csrf_ok(form):
        return form_again(403, error=CSRF_FAILED_FR)
    price_cents = parse_euros(str(values["price"]))
    try:
        if price_cents is None or not 0 <= price_cents <= MAX_PRICE_CENTS:
            raise ValueError("price")
        body = ListingPatch.model_validate(
            {
                "published": values["published"],
                "price_cents": price_cents,
                "negotiable": values["negotiable"],
                "location": values["location"],
            }
        )
    except ValidationError as exc:
        return form_again(422, field_errors=french_errors(exc, EDIT_ERRORS_FR))
    except ValueError:
        return form_again(422, field_errors={"price_cents": EDIT_ERRORS_FR["price_cents"]})
    if sold and form.get("sold_confirmed") != "yes":
        # Irreversible: asked once more, with what it means, before anything is saved.
        context = {"item": item_of(row, ctx.clock()), "form": values}
        return page(ctx.request, "espace/confirm_sold.html", context, owner=ctx.owner)
    try:
        updated = await ctx.service.edit(row.listing.id, body)
        if sold:
            updated = await ctx.service.mark_sold(row.listing.id)
    except ApiError as err:
        raise ctx.refused(err) from None
    return redirect(f"/espace/annonces/{updated.listing.id}", "vendu" if sold else "enregistre")


@router.get("/annonces/{listing_id}/annonce")
async def preview(listing_id: str, ctx: Page) -> Response:
    row = await ctx.listing(listing_id, full=True)
    context = {
        "item": detail_view(row),
        "preview": True,
        "can_publish": owner_may_publish(row.listing, ctx.clock()),
        "min_message": MIN_CONTACT_MESSAGE_LENGTH,
        "max_message": MAX_MESSAGE_LENGTH,
    }
    return page(ctx.request, "annonces/detail.html", context, owner=ctx.owner)
