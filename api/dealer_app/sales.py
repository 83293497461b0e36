"""The dealer's remote sales (issue 13): "Gérer mes ventes à distance", "Liste des brouillons /
devis", the new proposal form and its confirmation.

Reads come from the read model through the API's own query (api/proposals/views.py:
`proposals_query`, its accent-insensitive search, and api/paging.py's keyset cursor); the
form validates with the API's `ProposalCreate` and creates through the API's
`ProposalService.create`, with an idempotency key drawn when the form is rendered (a double
submit creates one proposal). Which states are "saved, unsent" and whether a proposal can
still be replaced are the machine's answers (statemachines/proposal.py).

"Refaire une nouvelle proposition" (`?depuis=<id>`): the form is pre-filled from one of the
centre's proposals; if the machine still lets the dealer cancel that one, the new proposal
goes through the API's replace path (created, then the old one cancelled, all or nothing);
otherwise (expired, signed, cancelled…) it is simply a new proposal copied from it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import func, select

from api.body_limit import body_limited_route
from api.dealer_app.deps import DealerFormDep, DealerPage, DealerPageDep, redirect
from api.errors import ApiError
from api.lifecycle_client import ActionPending, EventRefused
from api.owners.pages import parse_euros
from api.paging import Keyset, PageParams, fetch_page
from api.proposals.schemas import ProposalCreate
from api.proposals.views import PROPOSALS, get_owned_proposal, lifecycle_of, proposals_query, sellers_query
from carflow.formatting import PROPOSAL_STATE_LABELS, euros, french_date, french_datetime
from db.models import Proposal, Seller
from statemachines.proposal import PROPOSAL_STATES, Actor, ProposalEvent, from_read_model

router = APIRouter(prefix="/vendeur", include_in_schema=False, route_class=body_limited_route(64 * 1024))

PAGE_SIZE = 20
# The tabs' counts scan at most this many of the centre's (matching) proposals, in one
# grouped query; beyond, the counts read "N+" (lower bounds).
COUNT_SCAN_CAP = 10_000
Q_MAX = 100
# The previous page: the same order read the other way from the page's first row.
PROPOSALS_BEFORE = Keyset("proposals-before", PROPOSALS.columns, descending=False)

# "Saved, unsent": the states the machine would still send to the buyer from.
UNSENT_STATES: tuple[str, ...] = tuple(
    state
    for state in PROPOSAL_STATES
    if ProposalEvent.SEND_TO_BUYER
    in {str(e.id) for e in from_read_model(state, expires_at=None, withdrawal_deadline=None).allowed_events}
)

OPTION_REQUIRED_FR = (
    "L'option vente à distance n'est pas activée sur votre compte client : "
    "pour la faire activer, contactez votre commercial."
)
# The seed's subject for "Je ne vois plus le bouton vente à distance ?".
ADV_ACCESS_SUBJECT = "Plus d'Accès Vente à Distance"
BAD_CURSOR_FR = "Ce lien de page n'est plus valable : voici la première page de la liste."
BAD_TAB_FR = "Cet onglet n'existe pas : voici toutes vos propositions."
Q_TOO_LONG_FR = f"Votre recherche est trop longue ({Q_MAX} caractères au plus) : raccourcissez-la."
UNAVAILABLE_FR = (
    "Le service de propositions est momentanément indisponible : rien n'a été enregistré. "
    "Réessayez dans un instant."
)
ALREADY_SUBMITTED_FR = (
    "Ce formulaire a déjà servi à créer une autre proposition. Vérifiez vos propositions "
    "commerciales, puis cliquez à nouveau sur le bouton si vous voulez en créer une nouvelle."
)
REPLACE_REFUSED_FR = (
    "La proposition d'origine ne peut plus être remplacée (l'acheteur a peut-être commencé "
    "à signer) : rien n'a été créé. Consultez-la avant de recommencer."
)

# The form's fields: name → French message when the value is refused. The name is the
# API body's path joined by "_" (buyer.address.city → buyer_address_city).
FIELD_ERRORS_FR: dict[str, str] = {
    "product_code": "Indiquez le code du produit.",
    "product_label": "Indiquez le nom du produit, par exemple « Extension de garantie 24 mois ».",
    "product_kind": "Choisissez le type de produit : contrat d'entretien ou extension de garantie.",
    "product_price": "Indiquez le prix en euros, par exemple 499 ou 499,90.",
    "product_duration_months": "Indiquez la durée en mois, un nombre entier de 1 à 120.",
    "buyer_first_name": "Indiquez le prénom de l'acheteur.",
    "buyer_last_name": "Indiquez le nom de l'acheteur.",
    "buyer_email": "Indiquez une adresse e-mail valide, par exemple jeanne.dupont@exemple.fr.",
    "buyer_mobile": "Indiquez un numéro de portable français (06 ou 07), par exemple 06 12 34 56 78.",
    "buyer_address_line1": "Indiquez l'adresse de l'acheteur (numéro et rue).",
    "buyer_address_postal_code": "Indiquez un code postal de 5 chiffres, par exemple 75011.",
    "buyer_address_city": "Indiquez la ville de l'acheteur.",
    "vehicle_vin": "Indiquez le numéro VIN : 17 lettres et chiffres, jamais I, O ni Q.",
    "vehicle_registration": "Indiquez l'immatriculation au format AB-123-CD.",
    "vehicle_make": "Indiquez la marque du véhicule.",
    "vehicle_model": "Indiquez le modèle du véhicule.",
    "vehicle_first_registration": "Indiquez la date de première immatriculation (pas dans le futur).",
    "vehicle_mileage_km": "Indiquez le kilométrage, un nombre entier de kilomètres.",
    "seller_profile": "Choisissez un vendeur enregistré, ou créez votre profil dans l'encadré VENDEUR.",
    "seller_name": "Indiquez le nom du vendeur.",
    "seller_email": "Indiquez l'adresse e-mail du vendeur, par exemple paul@garage.fr.",
    "seller_phone": "Indiquez un numéro de téléphone français, par exemple 01 23 45 67 89 (ou laissez vide).",
}
FORM_FIELDS = tuple(FIELD_ERRORS_FR)
NEW_SELLER = "nouveau"
# The body's price is in cents; the form asks for euros.
_BODY_TO_FIELD = {"product_price_cents": "product_price"}


# --- the lists -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    rows: list[dict[str, Any]]
    next_url: str | None
    previous_url: str | None


def row_view(row: Proposal) -> dict[str, Any]:
    """A proposal as a line of the lists shows it, in French."""
    return {
        "id": row.id,
        "contract_number": row.contract_number,
        "state": PROPOSAL_STATE_LABELS.get(row.state, row.state),
        "buyer": f"{row.buyer_first_name} {row.buyer_last_name}",
        "vehicle": f"{row.vehicle_make} {row.vehicle_model}",
        "registration": row.vehicle_registration,
        "product": row.product_label,
        "price": euros(row.price_cents, always_cents=True),
        "created": french_date(row.created_at),
        "sent": french_datetime(row.last_sent_at or row.first_sent_at),
        "viewed": french_datetime(row.last_viewed_at),
        "view_count": row.view_count,
        "expires": french_date(row.expires_at),
    }


def list_url(path: str, **params: str | None) -> str:
    kept = {name: value for name, value in params.items() if value}
    return f"{path}?{urlencode(kept)}" if kept else path


async def page_of(
    ctx: DealerPage, path: str, states: tuple[str, ...], q: str | None, tab: str | None
) -> tuple[Listed, str | None]:
    """The asked page of the centre's proposals, and a French message if a parameter was bad."""
    query = proposals_query(ctx.dealer.id, states=states, q=q)
    after = ctx.request.query_params.get("apres") or None
    before = ctx.request.query_params.get("avant") or None
    keyset = PROPOSALS_BEFORE if before and not after else PROPOSALS
    cursor = before if keyset is PROPOSALS_BEFORE else after
    problem = None
    try:
        found = await fetch_page(ctx.session, query, keyset, PageParams(1, PAGE_SIZE, cursor))
    except ApiError:  # a cursor this list did not give (edited, or of another list)
        problem, cursor, keyset = BAD_CURSOR_FR, None, PROPOSALS
        found = await fetch_page(ctx.session, query, keyset, PageParams(1, PAGE_SIZE, None))
    items: list[Proposal] = list(found.items)
    more = found.next_cursor is not None
    if keyset is PROPOSALS_BEFORE:
        items.reverse()
        has_previous, has_next = more, True
    else:
        has_previous, has_next = cursor is not None, more
    common = {"etat": tab, "q": q}
    return (
        Listed(
            [row_view(row) for row in items],
            list_url(path, **common, apres=PROPOSALS.encode(items[-1])) if items and has_next else None,
            list_url(path, **common, avant=PROPOSALS_BEFORE.encode(items[0]))
            if items and has_previous
            else None,
        ),
        problem,
    )


async def state_counts(ctx: DealerPage, q: str | None) -> tuple[dict[str, int], bool]:
    """How many of the centre's (matching) proposals are in each state: one grouped query
    over at most COUNT_SCAN_CAP rows; False when it stopped there (the counts are then lower bounds)."""
    scanned = (
        proposals_query(ctx.dealer.id, q=q)
        .with_only_columns(Proposal.state, maintain_column_froms=True)
        .limit(COUNT_SCAN_CAP + 1)
        .subquery()
    )
    result = await ctx.session.execute(select(scanned.c.state, func.count()).group_by(scanned.c.state))
    counts = {str(state): int(n) for state, n in result.all()}
    return counts, sum(counts.values()) <= COUNT_SCAN_CAP


def search_of(ctx: DealerPage) -> tuple[str | None, str | None]:
    q = (ctx.request.query_params.get("q") or "").strip()
    if len(q) > Q_MAX:
        return None, Q_TOO_LONG_FR
    return q or None, None


@router.get("/propositions")
async def proposals_list(ctx: DealerPageDep) -> Response:
    """ "Gérer mes ventes à distance": tabs per state with counts, search, pages."""
    q, problem = search_of(ctx)
    tab = ctx.request.query_params.get("etat") or None
    if tab is not None and tab not in PROPOSAL_STATES:
        tab, problem = None, problem or BAD_TAB_FR
    counts, exact = await state_counts(ctx, q)
    listed, cursor_problem = await page_of(ctx, "/vendeur/propositions", (tab,) if tab else (), q, tab)
    problem = problem or cursor_problem
    plus = "" if exact else "+"
    tabs = [{"key": None, "label": "Toutes", "count": f"{sum(counts.values())}{plus}"}] + [
        {"key": state, "label": PROPOSAL_STATE_LABELS[state], "count": f"{counts.get(state, 0)}{plus}"}
        for state in PROPOSAL_STATES
    ]
    return ctx.render(
        "vendeur/propositions.html",
        {"listed": listed, "tabs": tabs, "tab": tab, "q": q or "", "error": problem},
        422 if problem else 200,
    )


@router.get("/brouillons")
async def drafts_list(ctx: DealerPageDep) -> Response:
    """ "Liste des brouillons / devis": the saved, unsent proposals."""
    q, problem = search_of(ctx)
    listed, cursor_problem = await page_of(ctx, "/vendeur/brouillons", UNSENT_STATES, q, None)
    problem = problem or cursor_problem
    return ctx.render(
        "vendeur/brouillons.html",
        {"listed": listed, "q": q or "", "error": problem},
        422 if problem else 200,
    )


# --- the new proposal --------------------------------------------------------------------------


def option_required(ctx: DealerPage) -> Response:
    """What a centre without the remote-sale option reads instead of the form (the seed's words)."""
    mailto = f"mailto:{ctx.settings.adv_email}?subject={quote(ADV_ACCESS_SUBJECT)}"
    return ctx.render(
        "vendeur/option_requise.html", {"message": OPTION_REQUIRED_FR, "adv_access_mailto": mailto}, 403
    )


async def saved_sellers(ctx: DealerPage) -> list[Seller]:
    """The centre's seller profiles, most recently used first (those of the last 100 sales)."""
    query = sellers_query(ctx.dealer.id).order_by(Seller.last_used_at.desc(), Seller.id.desc()).limit(100)
    return list((await ctx.session.scalars(query)).all())


def values_of(row: Proposal) -> dict[str, str]:
    """The form's values copied from an existing proposal ("refaire une nouvelle proposition")."""
    return {
        "product_code": row.product_code,
        "product_label": row.product_label,
        "product_kind": row.product_kind,
        "product_price": f"{row.price_cents / 100:.2f}".replace(".", ","),
        "product_duration_months": str(row.duration_months),
        "buyer_first_name": row.buyer_first_name,
        "buyer_last_name": row.buyer_last_name,
        "buyer_email": row.buyer_email,
        "buyer_mobile": row.buyer_mobile,
        "buyer_address_line1": row.buyer_address_line1,
        "buyer_address_postal_code": row.buyer_postal_code,
        "buyer_address_city": row.buyer_city,
        "vehicle_vin": row.vehicle_vin,
        "vehicle_registration": row.vehicle_registration,
        "vehicle_make": row.vehicle_make,
        "vehicle_model": row.vehicle_model,
        "vehicle_first_registration": row.vehicle_first_registration.isoformat(),
        "vehicle_mileage_km": str(row.vehicle_mileage_km),
        "seller_profile": NEW_SELLER,
        "seller_name": row.seller_name,
        "seller_email": row.seller_email,
        "seller_phone": row.seller_phone or "",
    }


async def source_of(ctx: DealerPage, raw_id: str) -> Proposal:
    """The centre's proposal a new one is copied from; another centre's is not found, as a missing one."""
    try:
        return await get_owned_proposal(ctx.session, ctx.dealer.id, raw_id)
    except ApiError:
        raise ctx.error(404, "Cette proposition est introuvable parmi celles de votre centre.") from None


def replaceable(ctx: DealerPage, row: Proposal) -> bool:
    """Whether the new proposal replaces `row`: the machine still lets the dealer cancel it."""
    return lifecycle_of(row).can(ProposalEvent.CANCEL, now=ctx.clock(), actor=Actor.DEALER)


async def form_page(
    ctx: DealerPage,
    values: dict[str, str],
    *,
    key: str | None = None,
    source: Proposal | None = None,
    status_code: int = 200,
    **problem: Any,
) -> Response:
    sellers = await saved_sellers(ctx)
    if not values.get("seller_profile"):
        values = {**values, "seller_profile": str(sellers[0].id) if sellers else NEW_SELLER}
    return ctx.render(
        "vendeur/nouvelle.html",
        {
            "values": values,
            "key": key or uuid.uuid4().hex,
            "sellers": sellers,
            "seller_options": [(str(s.id), f"{s.name} ({s.email})") for s in sellers]
            + [(NEW_SELLER, "Nouveau vendeur : je crée mon profil ci-dessous")],
            "new_seller": NEW_SELLER,
            "source": source,
            "replaces": source is not None and replaceable(ctx, source),
            **problem,
        },
        status_code,
    )


@router.get("/propositions/nouvelle")
async def new_proposal_form(ctx: DealerPageDep) -> Response:
    if not ctx.dealer.remote_sale_enabled:
        return option_required(ctx)
    depuis = ctx.request.query_params.get("depuis")
    source = await source_of(ctx, depuis) if depuis else None
    return await form_page(ctx, values_of(source) if source else {}, source=source)


def _number(text: str) -> int | str:
    """ "42 000" → 42000; anything else is passed on as typed, for the schema to refuse."""
    digits = re.sub(r"[\s\u00a0\u202f.]", "", text)
    return int(digits) if digits.isdigit() else text


def body_of(values: dict[str, str], seller: Seller | None, send: bool) -> dict[str, Any]:
    """The API's create body from the form (prices in euros → cents, numbers as integers)."""
    price = parse_euros(values["product_price"]) if values["product_price"] else None
    first_registration: str | None = values["vehicle_first_registration"] or None
    return {
        "product": {
            "code": values["product_code"],
            "label": values["product_label"],
            "kind": values["product_kind"],
            "price_cents": price if price is not None else values["product_price"],
            "duration_months": _number(values["product_duration_months"]),
        },
        "buyer": {
            "first_name": values["buyer_first_name"],
            "last_name": values["buyer_last_name"],
            "email": values["buyer_email"],
            "mobile": values["buyer_mobile"],
            "address": {
                "line1": values["buyer_address_line1"],
                "postal_code": values["buyer_address_postal_code"],
                "city": values["buyer_address_city"],
            },
        },
        "vehicle": {
            "vin": values["vehicle_vin"],
            "registration": values["vehicle_registration"],
            "make": values["vehicle_make"],
            "model": values["vehicle_model"],
            "first_registration": first_registration,
            "mileage_km": _number(values["vehicle_mileage_km"]),
        },
        "seller": (
            {"name": seller.name, "email": seller.email, "phone": seller.phone}
            if seller is not None
            else {
                "name": values["seller_name"],
                "email": values["seller_email"],
                "phone": values["seller_phone"] or None,
            }
        ),
        "send": send,
    }


def french_field_errors(err: ValidationError) -> dict[str, str]:
    """Each refused field's French message, keyed by the form field's name, in the form's order."""
    found: set[str] = set()
    for problem in err.errors():
        name = "_".join(str(part) for part in problem["loc"])
        name = _BODY_TO_FIELD.get(name, name)
        found.add(name if name in FIELD_ERRORS_FR else "product_code")
    return {name: FIELD_ERRORS_FR[name] for name in FORM_FIELDS if name in found}


@router.post("/propositions/nouvelle")
async def create_proposal(ctx: DealerFormDep) -> Response:
    """Save as a devis ("Enregistrer") or create and send ("Envoyer par email"), once per form."""
    if not ctx.dealer.remote_sale_enabled:
        return option_required(ctx)
    values = {name: ctx.field(name, 400) for name in FORM_FIELDS}
    send = ctx.field("action", 20) == "envoyer"
    key = ctx.field("cle", 64) or uuid.uuid4().hex
    depuis = ctx.field("depuis", 64)
    source = await source_of(ctx, depuis) if depuis else None

    async def again(status_code: int, **problem: Any) -> Response:
        return await form_page(ctx, values, key=key, source=source, status_code=status_code, **problem)

    seller: Seller | None = None
    errors: dict[str, str] = {}
    profile = values["seller_profile"]
    # The VENDEUR box filled in wins (a new profile, or a saved one refreshed by its email);
    # otherwise the saved profile chosen.
    if profile and profile != NEW_SELLER and not (values["seller_name"] or values["seller_email"]):
        try:
            seller = await ctx.session.scalar(
                sellers_query(ctx.dealer.id).where(Seller.id == uuid.UUID(profile))
            )
        except ValueError:
            seller = None
        if seller is None:
            errors["seller_profile"] = FIELD_ERRORS_FR["seller_profile"]
    try:
        body = ProposalCreate.model_validate(body_of(values, seller, send))
    except ValidationError as err:
        errors = {**french_field_errors(err), **errors}
    if errors:
        ordered = {name: errors[name] for name in FORM_FIELDS if name in errors}
        return await again(422, field_errors=ordered)
    if ctx.proposals.workflows is None:  # creating needs the workflow: nothing is written without it
        return await again(503, error=UNAVAILABLE_FR)
    replaces = source if source is not None and replaceable(ctx, source) else None
    try:
        created = await ctx.proposals.create(body, f"vendeur-{key}", replaces=replaces)
    except ActionPending as pending:  # created, the sending is under way
        return redirect(f"/vendeur/propositions/{pending.target_id}/confirmation?action=envoi")
    except EventRefused:
        return await again(409, error=REPLACE_REFUSED_FR)
    except ApiError as err:
        if err.code == "send_failed":  # saved as a draft, the email could not go
            return redirect(f"/vendeur/propositions/{err.details['proposal_id']}/confirmation?action=echec")
        if err.code == "idempotency_key_reused":
            return await form_page(ctx, values, source=source, status_code=409, error=ALREADY_SUBMITTED_FR)
        if err.status_code == 503:
            return await again(503, error=UNAVAILABLE_FR)
        raise
    action = "envoi" if send else "devis"
    return redirect(f"/vendeur/propositions/{created.detail.id}/confirmation?action={action}")


# --- the confirmation --------------------------------------------------------------------------


@router.get("/propositions/{proposal_id:uuid}/confirmation")
async def confirmation(proposal_id: uuid.UUID, ctx: DealerPageDep) -> Response:
    """What happened: saved as a devis, sent by email to the buyer, under way, or not sent."""
    row = await source_of(ctx, str(proposal_id))
    action = ctx.request.query_params.get("action", "devis")
    if row.first_sent_at is not None:  # the read model's fact wins over what the link says
        outcome = "envoyee"
    elif action == "envoi":
        outcome = "en-cours"
    elif action == "echec":
        outcome = "echec"
    else:
        outcome = "devis"
    replaced = await ctx.session.get(Proposal, row.replaces_id) if row.replaces_id else None
    context = {
        "row": row_view(row),
        "buyer_email": row.buyer_email,
        "outcome": outcome,
        "replaced": replaced.contract_number if replaced and replaced.dealer_id == ctx.dealer.id else None,
        "adv_bug_mailto": (
            f"mailto:{ctx.settings.adv_email}?subject={quote('BUG Vente à Distance')}"
            f"&body={quote('Numéro de contrat : ' + row.contract_number)}"
        ),
    }
    response = ctx.render("vendeur/confirmation.html", context)
    if outcome == "en-cours":
        response.headers["Refresh"] = f"3; url=/vendeur/propositions/{row.id}/confirmation?action=envoi"
    return response
