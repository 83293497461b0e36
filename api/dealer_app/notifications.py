"""`/vendeur/notifications` (issue 13): which events the centre is emailed about, and where.

The choices are the centre's (every user of the centre sees and changes the same ones); no
saved choice means every notice, to the centre's email (db/dealer_notices.py). The form
posts back here with its CSRF token; a bad address gets a French message next to the field
and at the top, and nothing is saved.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter
from fastapi.responses import Response

from api.body_limit import body_limited_route
from api.dealer_app.deps import NOTICES, DealerFormDep, DealerPage, DealerPageDep, redirect
from db.dealer_notices import NoticeSettings, notice_settings
from db.models import DealerNotificationSettings, utcnow

router = APIRouter(prefix="/vendeur", include_in_schema=False, route_class=body_limited_route(16 * 1024))

PATH = "/vendeur/notifications"
NOTICES["notifications"] = "Vos préférences de notification sont enregistrées."
# (field, French label, hint): the events a centre can be told about.
EVENTS = (
    ("on_first_view", "Le client ouvre la proposition pour la première fois", None),
    ("on_signed", "Le client signe (la vente est enregistrée dans votre activité)", None),
    ("on_withdrawn", "Le client se rétracte après avoir signé", None),
    ("on_expiring", "Une proposition va expirer sans avoir été signée", "expiring"),
)


def _render(
    ctx: DealerPage, choices: NoticeSettings, errors: dict[str, str], status_code: int = 200
) -> Response:
    return ctx.render(
        "vendeur/notifications.html",
        {
            "choices": choices,
            "events": EVENTS,
            "field_errors": errors,
            "expiring_days": ctx.settings.dealer_notice_expiring_days,
            "email_value": choices.email or "",
        },
        status_code=status_code,
    )


@router.get("/notifications")
async def notifications_form(ctx: DealerPageDep) -> Response:
    return _render(ctx, await notice_settings(ctx.session, ctx.dealer), {})


@router.post("/notifications")
async def save_notifications(ctx: DealerFormDep) -> Response:
    email = ctx.field("email", 320)
    wanted = {name: ctx.field(name) == "oui" for name, _, _ in EVENTS}
    errors: dict[str, str] = {}
    if email:
        try:
            email = validate_email(email, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            errors["email"] = "Indiquez une adresse e-mail valide, par exemple contact@garage.fr."
    elif any(wanted.values()) and not ctx.dealer.email:
        errors["email"] = (
            "Votre centre n'a pas d'adresse e-mail enregistrée : "
            "indiquez l'adresse où recevoir les notifications."
        )
    if errors:
        return _render(ctx, NoticeSettings(email or None, **wanted), errors, status_code=422)
    row = await ctx.session.get(DealerNotificationSettings, ctx.dealer.id)
    if row is None:
        row = DealerNotificationSettings(dealer_id=ctx.dealer.id)
        ctx.session.add(row)
    row.email = email or None
    for name, value in wanted.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    await ctx.session.commit()
    return redirect(PATH, ok="notifications")
