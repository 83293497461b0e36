"""The public site, `/annonces`: search and detail of visible listings, contact the seller;
the shareable inspection report, `/r/{report_token}` (page) and `/r/{report_token}/rapport.pdf`.

Visible: published listings, and sold ones during their last month ("VENDU", no contact
form). Anything else is a 404 for the public; the owner, logged in, sees their own private
listing with a banner saying it is invisible to the public.

The report is reachable only by its unguessable token (256 bits, derived with the secret
key), whether the listing is published or private: the owner decides whom to give it to.
The page and the PDF come from one template (activities/templates/pdf/report.html).

A listing or report that does not exist raises its "not found" page (api/pages.py).
"""

from __future__ import annotations

import math
import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from activities.reports import ReportRenderer, load_inspection, report_context
from api.body_limit import body_limited_route
from api.deps import ClockDep, SessionDep, SettingsDep
from api.errors import ApiError
from api.listings.deps import WorkflowsDep
from api.listings.schemas import MAX_MESSAGE_LENGTH, MIN_CONTACT_MESSAGE_LENGTH, ContactBody
from api.listings.service import (
    PAGE_SIZE,
    Row,
    SearchQuery,
    Sort,
    any_row,
    first_photos,
    lifecycle_of,
    owner_may_publish,
    public_row,
    report_pdf,
    search,
    send_contact,
)
from api.listings.views import detail_view, page_view
from api.pages import PageError
from api.paging import MAX_PAGE, PageParams
from api.security import csrf, rate_limit
from api.security.sessions import session_owner
from api.templating import templates
from carflow.settings import Settings
from carflow.tokens import hash_token
from db.models import Inspection, Owner
from workflows.listing_contract import MAX_PRICE_CENTS

router = APIRouter(prefix="/annonces", include_in_schema=False, route_class=body_limited_route(16 * 1024))
report_router = APIRouter(prefix="/r", include_in_schema=False)

CONTACT_ERRORS_FR = {
    "name": "Indiquez votre nom (100 caractères au plus).",
    "email": "Indiquez une adresse e-mail valide, pour que le vendeur puisse vous répondre.",
    "phone": "Indiquez un numéro de téléphone français valide, ou laissez ce champ vide.",
    "message": (
        f"Votre message doit contenir entre {MIN_CONTACT_MESSAGE_LENGTH} et {MAX_MESSAGE_LENGTH} caractères."
    ),
    "website": "Laissez ce champ vide.",
}
CSRF_FAILED_FR = (
    "Ce formulaire a expiré ou n'a pas été envoyé depuis ce site. Rechargez la page et recommencez."
)


def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    settings: Settings = request.app.state.settings
    return csrf.render_page(templates, request, settings, name, context, status_code)


def not_found(owner: Owner | None) -> PageError:
    return PageError(404, "annonces/not_found.html", {"owner": owner})


# The page's sorts, named in French in its address (`tri=`), as the API names them.
PAGE_SORTS: dict[str, Sort] = {
    "recent": "newest",
    "prix_croissant": "price_asc",
    "prix_decroissant": "price_desc",
    "kilometrage": "mileage_asc",
}
PAGE_SORT_LABELS = {
    "recent": "Les plus récentes",
    "prix_croissant": "Prix croissant",
    "prix_decroissant": "Prix décroissant",
    "kilometrage": "Kilométrage le plus bas",
}


@router.get("")
async def search_page(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    params = request.query_params
    q = {key: params.get(key, "").strip()[:80] for key in ("marque", "modele", "prix_max", "lieu", "tri")}
    owner = await session_owner(request, session, settings)
    errors: dict[str, str] = {}
    max_price_cents = None
    if q["prix_max"]:
        digits = q["prix_max"].replace(" ", "").replace("\u202f", "").replace("€", "")
        if digits.isdigit() and int(digits) * 100 <= MAX_PRICE_CENTS:
            max_price_cents = int(digits) * 100
        else:
            errors["max_price_cents"] = (
                "Indiquez un prix maximum en euros, sans centimes (par exemple 15000)."
            )
    page_number = params.get("page", "1")
    page_index = int(page_number) if page_number.isdigit() and 0 < int(page_number) <= MAX_PAGE else 1
    # "Page suivante" carries a cursor (stable while listings are published meanwhile) and
    # the page number, which is then only shown.
    cursor = params.get("cursor", "")[:500] or None
    query = SearchQuery(
        make=q["marque"] or None,
        model=q["modele"] or None,
        max_price_cents=max_price_cents,
        location=q["lieu"] or None,
        sort=PAGE_SORTS.get(q["tri"], "newest"),
    )
    rows: list[Row] = []
    total, exact, next_cursor = 0, True, None
    if not errors:
        try:
            rows, found = await search(session, query, PageParams(page_index, PAGE_SIZE, cursor))
            total, exact, next_cursor = found.total, found.total_exact, found.next_cursor
        except ApiError as err:
            if err.code != "invalid_cursor":
                raise
            errors["cursor"] = "Ce lien de page n'est plus valide : relancez la recherche."
    photos = await first_photos(session, [row.inspection.id for row in rows])
    context = {
        "owner": owner,
        "q": q,
        "items": [{**page_view(row), "photo": photos.get(row.inspection.id)} for row in rows],
        "sorts": PAGE_SORT_LABELS,
        "total": total,
        "total_exact": exact,
        "page": page_index,
        "pages": max(1, math.ceil(total / PAGE_SIZE)),
        "next_cursor": next_cursor,
        "query_string": urlencode({k: v for k, v in q.items() if v}),
        "field_errors": errors,
    }
    return page(request, "annonces/search.html", context, 422 if errors else 200)


async def _owner_and_id(
    request: Request, session: Any, settings: Settings, listing_id: str
) -> tuple[Owner | None, uuid.UUID]:
    """The logged-in owner, if any (the page's header shows them), and the listing's id.

    A malformed id is a listing not found, like an unknown one."""
    owner = await session_owner(request, session, settings)
    try:
        return owner, uuid.UUID(listing_id)
    except ValueError:
        raise not_found(owner) from None


async def _visible_or_own(
    request: Request, session: Any, settings: Settings, listing_id: str
) -> tuple[Row, Owner | None, bool]:
    """(row, owner, preview): the public listing, or the logged-in owner's own hidden one."""
    owner, ident = await _owner_and_id(request, session, settings, listing_id)
    row = await public_row(session, ident)
    if row is not None:
        return row, owner, False
    if owner is not None:
        own = await any_row(session, ident)
        if own is not None and own.listing.owner_id == owner.id and lifecycle_of(own.listing).surveyed():
            return own, owner, True
    raise not_found(owner)


def detail_context(row: Row, owner: Owner | None, preview: bool, **extra: Any) -> dict[str, Any]:
    return {
        "owner": owner,
        "item": detail_view(row),
        "preview": preview,
        "min_message": MIN_CONTACT_MESSAGE_LENGTH,
        "max_message": MAX_MESSAGE_LENGTH,
        **extra,
    }


@router.get("/{listing_id}")
async def detail_page(
    listing_id: str, request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> Response:
    row, owner, preview = await _visible_or_own(request, session, settings, listing_id)
    sent = request.query_params.get("message") == "envoye"
    can_publish = preview and owner_may_publish(row.listing, clock())
    context = detail_context(row, owner, preview, sent=sent, can_publish=can_publish)
    return page(request, "annonces/detail.html", context)


@router.post("/{listing_id}/contact")
async def contact(
    listing_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    workflows: WorkflowsDep,
    clock: ClockDep,
) -> Response:
    owner, ident = await _owner_and_id(request, session, settings, listing_id)
    row = await public_row(session, ident)
    if row is None:
        raise not_found(owner)
    form = await request.form()
    values = {key: str(form.get(key) or "") for key in ("name", "email", "phone", "message", "website")}
    shown = {k: v for k, v in values.items() if k != "website"}

    def form_again(status_code: int, shown_row: Row, **problem: Any) -> Response:
        """The listing with the contact form as the visitor filled it, saying what went wrong."""
        context = detail_context(shown_row, owner, False, form=shown, **problem)
        return page(request, "annonces/detail.html", context, status_code)

    if not csrf.form_token_valid(request, settings, str(form.get("csrf") or "")):
        return form_again(403, row, contact_error=CSRF_FAILED_FR)
    try:
        body = ContactBody.model_validate({**values, "phone": values["phone"].strip() or None})
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "message"
            errors.setdefault(field, CONTACT_ERRORS_FR.get(field, "Valeur invalide."))
        return form_again(422, row, field_errors=errors)
    try:
        await send_contact(
            session, workflows, ident, body, ip=rate_limit.client_ip(request.client), now=clock()
        )
    except ApiError as err:
        messages = {
            429: "Vous avez envoyé beaucoup de messages : réessayez dans une heure.",
            409: "Ce véhicule vient d'être vendu : le vendeur ne reçoit plus de messages.",
            404: None,
            503: "Le service est momentanément indisponible. Réessayez dans un instant.",
        }
        if err.status_code == 404:
            raise not_found(owner) from None
        fresh = await public_row(session, ident) or row
        message = messages.get(err.status_code) or "Votre message n'a pas pu être envoyé."
        return form_again(err.status_code, fresh, contact_error=message)
    return RedirectResponse(f"/annonces/{ident}?message=envoye", status_code=303)


# --- the shareable report, /r/{report_token} --------------------------------------------------


# The token is in the URL: keep it out of Referer headers and search engines.
PRIVATE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "Cache-Control": "private, no-store",
}


def report_not_found() -> PageError:
    return PageError(
        404, "rapport/not_found.html", {"owner": None, "csrf": ""}, form_token=False, headers=PRIVATE_HEADERS
    )


async def _inspection_id(session: SessionDep, token: str) -> uuid.UUID:
    """The inspection of a report token, or the report's "not found" page."""
    found = None
    if 20 <= len(token) <= 100:
        found = await session.scalar(
            select(Inspection.id).where(Inspection.report_token_hash == hash_token(token))
        )
    if found is None:
        raise report_not_found()
    return found


@report_router.get("/{token}", response_class=HTMLResponse)
async def report_page(token: str, session: SessionDep) -> Response:
    inspection = await load_inspection(session, await _inspection_id(session, token))
    if inspection is None:
        raise report_not_found()
    html = ReportRenderer().html(report_context(inspection), page=True, pdf_url=f"/r/{token}/rapport.pdf")
    return HTMLResponse(html, headers=PRIVATE_HEADERS)


@report_router.get("/{token}/rapport.pdf")
async def report_file(token: str, request: Request, session: SessionDep) -> Response:
    inspection_id = await _inspection_id(session, token)
    settings = request.app.state.settings
    pdf, inspection = await report_pdf(session, settings, inspection_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            **PRIVATE_HEADERS,
            "Content-Disposition": f'inline; filename="rapport-expertise-{inspection.reference}.pdf"',
        },
    )
