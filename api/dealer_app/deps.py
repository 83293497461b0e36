"""The pages' context of the dealer's web app, `/vendeur` (issue 13).

Every page of a logged-in dealer user declares `ctx: DealerPageDep` (GET) or
`ctx: DealerFormDep` (POST: the form is read and its CSRF token checked first, a bad one is
the 403 page). The context carries what a page needs and nothing more:

* `.user` (the DealerUser row), `.dealer` (their centre, the Dealer row) and `.principal`,
  the very `Principal` the JSON API builds from the centre's bearer token, so the services
  apply the same authorization: a user sees only their centre's proposals;
* `.proposals`, the API's proposal service bound to that principal (reads come from the
  read model; actions need Temporal and answer 503 without it, as in the API);
* `.render(template, context)` (CSRF token, user, centre, active menu item, the notice of
  `?ok=`) and `.error(status, message, contract_number)`, the French error page with a
  mailto to ADV prefilled with the contract number, to raise.

Not logged in: a redirect to `/vendeur/connexion?suite=<this page>` (api/pages.py).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from api.dealer_app.sessions import session_user
from api.deps import Clock, ClockDep, SessionDep, SettingsDep, get_temporal_or_none
from api.lifecycle_client import proposal_workflows
from api.pages import PageError, PageRedirect, login_url
from api.proposals.service import ProposalService
from api.security import csrf
from api.templating import templates
from carflow.links import adv_mailto
from carflow.settings import Settings
from db.accounts import Principal
from db.models import Dealer, DealerUser, Role

HOME = "/vendeur/propositions"
LOGIN = "/vendeur/connexion"
CSRF_FAILED_FR = (
    "Ce formulaire a expiré ou n'a pas été envoyé depuis ce site. Rechargez la page et recommencez."
)
# What `?ok=<key>` says at the top of the page after a form succeeded. Each page module may
# add its own keys at import time (`NOTICES["envoye"] = "..."`) or pass `notice` to render.
NOTICES: dict[str, str] = {
    "deconnecte": "Vous êtes déconnecté.",
    "mot-de-passe": "Votre mot de passe est enregistré : connectez-vous avec celui-ci.",
    "enregistre": "Vos modifications sont enregistrées.",
    "mot-de-passe-change": "Votre mot de passe est changé. Vos autres sessions sont fermées.",
}
# The menu's items: (key, path prefix). The longest matching prefix is the active item.
MENU = (
    ("propositions", "/vendeur/propositions"),
    ("nouvelle", "/vendeur/propositions/nouvelle"),
    ("brouillons", "/vendeur/brouillons"),
    ("activite", "/vendeur/activite"),
    ("notifications", "/vendeur/notifications"),
    ("compte", "/vendeur/compte"),
)


def active_menu(path: str) -> str | None:
    matching = [(len(prefix), key) for key, prefix in MENU if path == prefix or path.startswith(prefix + "/")]
    return max(matching)[1] if matching else None


def safe_next(value: str | None) -> str:
    """Only the dealer app's own pages: no open redirect to another site."""
    if value and value.startswith("/vendeur/") and "//" not in value and "\\" not in value:
        return value
    return HOME


def redirect(path: str, ok: str | None = None) -> Response:
    separator = "&" if "?" in path else "?"
    return RedirectResponse(f"{path}{separator}ok={ok}" if ok else path, status_code=303)


def page_context(
    request: Request,
    settings: Settings,
    context: dict[str, Any],
    user: DealerUser | None = None,
    dealer: Dealer | None = None,
) -> dict[str, Any]:
    """What every page of the dealer app shows: who is logged in, the menu, the notice."""
    return {
        "user": user,
        "dealer": dealer,
        "menu": active_menu(request.url.path),
        "notice": NOTICES.get(request.query_params.get("ok", "")),
        "adv_email": settings.adv_email,
        **context,
    }


def render_page(
    request: Request,
    settings: Settings,
    template: str,
    context: dict[str, Any],
    status_code: int = 200,
    user: DealerUser | None = None,
    dealer: Dealer | None = None,
) -> Response:
    """A dealer-app template with CSRF token (and cookie when new), for pages with or without login."""
    full = page_context(request, settings, context, user, dealer)
    return csrf.render_page(templates, request, settings, template, full, status_code)


class DealerPage:
    """The logged-in dealer user of a page, their centre, and the API's services for it."""

    form: FormData | None = None  # set by DealerFormDep

    def __init__(
        self,
        request: Request,
        session: Any,
        settings: Settings,
        clock: Clock,
        user: DealerUser,
        dealer: Dealer,
        proposals: ProposalService,
    ) -> None:
        self.request = request
        self.session = session
        self.settings = settings
        self.clock = clock
        self.user = user
        self.dealer = dealer
        self.principal = proposals.dealer
        self.proposals = proposals

    def csrf_ok(self, form: Any) -> bool:
        return csrf.form_token_valid(self.request, self.settings, str(form.get(csrf.CSRF_FIELD) or ""))

    def field(self, name: str, max_length: int = 1000, *, strip: bool = True) -> str:
        """A POSTed field as text, stripped (unless a password) and bounded ("" when absent)."""
        value = self.form.get(name) if self.form is not None else None
        if not isinstance(value, str):
            return ""
        return (value.strip() if strip else value)[:max_length]

    def render(
        self, template: str, context: dict[str, Any] | None = None, status_code: int = 200
    ) -> Response:
        return render_page(
            self.request, self.settings, template, context or {}, status_code, self.user, self.dealer
        )

    def error(self, status: int, message: str, contract_number: str | None = None) -> PageError:
        """The French error page (to raise), with the mailto to ADV prefilled."""
        context = page_context(
            self.request,
            self.settings,
            {
                "message": message,
                "status": status,
                "contract_number": contract_number,
                "adv_mailto": adv_mailto(self.settings, contract_number, message),
            },
            self.user,
            self.dealer,
        )
        return PageError(status, "vendeur/error.html", context)


def principal_of(dealer: Dealer) -> Principal:
    """The principal the API builds from the centre's bearer token (db/accounts.authenticate)."""
    return Principal(Role.DEALER, dealer.id, dealer.name, dealer.remote_sale_enabled)


async def dealer_page(
    request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> DealerPage:
    """The page's context, or a redirect to the login form (back here once logged in)."""
    found = await session_user(request, session, clock())
    if found is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise PageRedirect(login_url(LOGIN, here))
    user, dealer = found
    # Temporal only once logged in: without it reads still answer, actions say 503.
    client = await get_temporal_or_none(request)
    workflows = proposal_workflows(client, settings) if client is not None else None
    service = ProposalService(session, settings, principal_of(dealer), workflows, clock)
    return DealerPage(request, session, settings, clock, user, dealer, service)


DealerPageDep = Annotated[DealerPage, Depends(dealer_page)]


async def dealer_form(ctx: DealerPageDep) -> DealerPage:
    """The page's context with its POSTed form, whose CSRF token is valid (else the 403 page)."""
    form = await ctx.request.form()
    if not ctx.csrf_ok(form):
        raise ctx.error(403, CSRF_FAILED_FR)
    ctx.form = form
    return ctx


DealerFormDep = Annotated[DealerPage, Depends(dealer_form)]
