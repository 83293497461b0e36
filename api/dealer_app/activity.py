""" "Mon activité" (issue 13): the centre's sales per month and per seller, charts and CSV.

`GET /vendeur/activite?du=AAAA-MM&au=AAAA-MM&vendeur=<email>` (default: the last 12 months,
every seller) shows the figures of api/dealer_app/activity_queries.py as SVG charts drawn
on the server, each followed by the table of its figures. `GET /vendeur/activite.csv` with
the same filters gives the same figures for a spreadsheet: UTF-8 with a BOM and `;` between
fields, decimal commas, as French Excel opens them with a double click. Bad filters get a
422 with a French message next to the field and at the top. Only the centre's own figures:
every query is bound to the logged-in user's centre.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import Response

from api.dealer_app.activity_charts import (
    SERIES,
    duration,
    french_number,
    month_label,
    monthly_chart,
    percent,
    sellers_chart,
)
from api.dealer_app.activity_queries import (
    Counts,
    Period,
    activity_report,
    add_months,
    known_sellers,
    seller_of_centre,
)
from api.dealer_app.deps import DealerPage, DealerPageDep
from carflow.formatting import PARIS

router = APIRouter(prefix="/vendeur", include_in_schema=False)

MAX_MONTHS = 24
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
MONTH_FORMAT_FR = "Indiquez un mois au format AAAA-MM (par exemple 2026-03)."


@dataclass
class Filters:
    du: str = ""
    au: str = ""
    vendeur: str = ""
    period: Period | None = None
    seller: str | None = None
    errors: dict[str, str] = field(default_factory=dict)


def _month(value: str) -> date | None:
    match = MONTH.match(value)
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        return None
    return date(int(match.group(1)), int(match.group(2)), 1)


async def read_filters(ctx: DealerPage) -> Filters:
    """The period and seller asked for, checked; `errors` (field → French message) if not."""
    params = ctx.request.query_params
    today = ctx.clock().astimezone(PARIS).date()
    default = Period.last_months(today)
    filters = Filters(
        du=(params.get("du") or "").strip()[:20],
        au=(params.get("au") or "").strip()[:20],
        vendeur=(params.get("vendeur") or "").strip().lower()[:320],
    )
    first = _month(filters.du) if filters.du else default.first
    last = _month(filters.au) if filters.au else default.last
    if first is None:
        filters.errors["du"] = f"Mois de début : {MONTH_FORMAT_FR}"
    if last is None:
        filters.errors["au"] = f"Mois de fin : {MONTH_FORMAT_FR}"
    if first is not None and last is not None:
        if last > default.last:
            filters.errors["au"] = "La période ne peut pas se terminer après le mois en cours."
        elif first > last:
            filters.errors["du"] = "Le mois de début doit être avant le mois de fin (ou le même)."
        elif add_months(first, MAX_MONTHS - 1) < last:
            filters.errors["du"] = f"La période ne peut pas dépasser {MAX_MONTHS} mois."
    if filters.vendeur and not await seller_of_centre(ctx.session, ctx.dealer.id, filters.vendeur):
        filters.errors["vendeur"] = (
            "Ce vendeur n'est pas connu de votre centre : choisissez-le dans la liste."
        )
    if not filters.errors and first is not None and last is not None:
        filters.period = Period(first, last)
        filters.seller = filters.vendeur or None
        filters.du, filters.au = first.strftime("%Y-%m"), last.strftime("%Y-%m")
    return filters


def _csv_query(filters: Filters) -> str:
    params = {"du": filters.du, "au": filters.au}
    if filters.seller:
        params["vendeur"] = filters.seller
    return urlencode(params)


@router.get("/activite")
async def activity_page(ctx: DealerPageDep) -> Response:
    filters = await read_filters(ctx)
    sellers = await known_sellers(ctx.session, ctx.dealer.id)
    context: dict[str, object] = {"filters": filters, "sellers": sellers, "field_errors": filters.errors}
    if filters.period is None:
        return ctx.render("vendeur/activity.html", context, status_code=422)
    report = await activity_report(ctx.session, ctx.dealer.id, filters.period, filters.seller)
    seller_names = {s.email: s.name for s in sellers}
    for key, _counts in report.sellers.values():
        seller_names.setdefault(key.email, key.name)
    context.update(
        report=report,
        monthly=monthly_chart(report),
        by_seller=sellers_chart(report),
        series=SERIES,
        month_label=month_label,
        percent=percent,
        duration=duration,
        seller_name=seller_names.get(filters.seller or "", filters.seller),
        csv_query=_csv_query(filters),
    )
    return ctx.render("vendeur/activity.html", context)


HEADER = [
    "Mois",
    "Vendeur",
    "Envoyées",
    "Consultées",
    "Signées",
    "Rétractées",
    "Expirées",
    "Conversion envoyées → signées (%)",
    "Délai médian de signature (jours)",
]


def _cell(text: str) -> str:
    # A cell starting with = + - @ would be a formula in a spreadsheet (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _figures(counts: Counts) -> list[str]:
    return [
        str(counts.sent),
        str(counts.viewed),
        str(counts.signed),
        str(counts.withdrawn),
        str(counts.expired),
        "" if counts.conversion is None else french_number(counts.conversion * 100),
        "" if counts.median_seconds is None else french_number(counts.median_seconds / 86400, 2),
    ]


@router.get("/activite.csv")
async def activity_csv(ctx: DealerPageDep) -> Response:
    filters = await read_filters(ctx)
    if filters.period is None:
        message = " ".join(filters.errors.values())
        return Response(
            f"Filtres à corriger : {message}\n", status_code=422, media_type="text/plain; charset=utf-8"
        )
    report = await activity_report(ctx.session, ctx.dealer.id, filters.period, filters.seller)
    everyone = filters.seller or "Tous les vendeurs"
    span = f"{filters.du} à {filters.au}"
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for month, counts in report.months.items():
        writer.writerow([month.strftime("%Y-%m"), _cell(everyone), *_figures(counts)])
    for key, counts in report.sellers.values():
        writer.writerow([span, _cell(f"{key.name} <{key.email}>"), *_figures(counts)])
    writer.writerow([span, _cell(f"Total ({everyone})"), *_figures(report.total)])
    name = f"activite-{filters.du}-{filters.au}.csv"
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
