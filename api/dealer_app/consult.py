""" "Consulter" a proposal in the dealer's web app (issue 13): its details and timeline, its
documents, and the actions the machine allows the dealer now, as buttons.

Reads come from the read model (the proposal row, its timeline: api/proposals/timeline.py);
every action goes through the dealer API's service (`ctx.proposals`), with the update id of
the version the form was shown for, so a retried form attaches to the same workflow update.
Another centre's proposal is the 404 page, like a missing one.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from api.body_limit import body_limited_route
from api.dealer_app.deps import NOTICES, DealerFormDep, DealerPage, DealerPageDep, adv_mailto, redirect
from api.errors import ApiError
from api.lifecycle_client import ActionPending
from api.proposals.deps import REMOTE_SALE_DISABLED_MESSAGE
from api.proposals.documents import DOCUMENT_NAMES, proposal_pdf
from api.proposals.timeline import DELIVERY_LABELS, proposal_timeline
from api.proposals.views import get_owned_proposal, lifecycle_of
from carflow.formatting import euros, french_date, french_datetime
from db.models import Proposal
from statemachines.proposal import Actor, ProposalEvent
from workflows.proposal_contract import EventRequest

router = APIRouter(prefix="/vendeur", include_in_schema=False, route_class=body_limited_route(32 * 1024))

NOT_FOUND_FR = "Cette proposition est introuvable."
PENDING_FR = (
    "Votre demande est en cours de traitement : elle a bien été reçue et sera prise en compte dans "
    "quelques instants. Inutile de recommencer ; rechargez la page pour voir où elle en est."
)
REFUSED_FR = "Cette action n'est plus possible : la proposition a changé d'état. Voici où elle en est."
UNAVAILABLE_FR = (
    "Une erreur technique empêche pour l'instant cette action. Réessayez dans quelques minutes ; "
    "si le souci persiste, signalez-le au service ADV en précisant le numéro du contrat."
)
NOT_EDITABLE_FR = (
    "Les coordonnées ne sont plus modifiables : la signature a commencé ou la proposition est close."
)
NOTICES.update(
    {
        "coordonnees": "Les coordonnées sont enregistrées.",
        "coordonnees-renvoyee": "Les coordonnées sont enregistrées et la proposition est renvoyée à la "
        "nouvelle adresse email.",
        "renvoyee": "La proposition est renvoyée par email à l'acheteur.",
        "annulee": "La proposition est annulée.",
        "envoyee": "La proposition est envoyée par email à l'acheteur.",
    }
)
# The proposal's state as the dealer reads it.
STATE_LABELS = {
    "draft": "Devis (non envoyé)",
    "sent": "Envoyée",
    "viewed": "Consultée par l'acheteur",
    "signing": "Signature en cours",
    "signed": "Signée : contrat actif",
    "binding": "Signée : contrat définitif",
    "expired": "Expirée",
    "withdrawn": "Rétractée",
    "declined": "Refusée par l'acheteur",
    "cancelled": "Annulée",
}
DOCUMENT_LABELS = {
    "contract": "Contrat à signer (PDF)",
    "signed": "Contrat signé (PDF)",
    "conditions": "Conditions générales (PDF)",
}
# The form's fields and the API's dotted paths, with the French message of a bad value.
CONTACT_FIELDS = {
    "buyer_email": ("buyer", "email", "Indiquez une adresse email valide (exemple : nom@domaine.fr)."),
    "buyer_mobile": ("buyer", "mobile", "Indiquez un numéro de portable français valide (06 ou 07…)."),
    "seller_name": ("seller", "name", "Indiquez le nom du vendeur."),
    "seller_email": ("seller", "email", "Indiquez l'adresse email du vendeur (exemple : nom@domaine.fr)."),
    "seller_phone": ("seller", "phone", "Indiquez un numéro de téléphone français valide, ou laissez vide."),
}


async def owned(ctx: DealerPage, proposal_id: uuid.UUID) -> Proposal:
    try:
        return await get_owned_proposal(ctx.session, ctx.principal.id, str(proposal_id))
    except ApiError:
        raise ctx.error(404, NOT_FOUND_FR) from None


def actions(ctx: DealerPage, row: Proposal) -> dict[str, bool]:
    """What the page offers, asked of the machine where the read model says it stands."""
    machine = lifecycle_of(row)
    now = ctx.clock()

    def can(event: str) -> bool:
        return machine.can(event, now=now, actor=Actor.DEALER)

    return {
        "edit": machine.accepts_corrections(now),
        "send": can(ProposalEvent.SEND_TO_BUYER) and ctx.principal.remote_sale_enabled,
        "resend": can(ProposalEvent.RESEND),
        "cancel": can(ProposalEvent.CANCEL),
        "replace": can(ProposalEvent.CANCEL) and ctx.principal.remote_sale_enabled,
        "in_person": can(ProposalEvent.START_IN_PERSON) and ctx.principal.remote_sale_enabled,
        # Signing under way: the dealer can type the code the buyer received (face to face).
        "in_person_code": can(ProposalEvent.SIGN),
    }


def documents(row: Proposal) -> list[tuple[str, str]]:
    stored = {
        "contract": row.contract_pdf_sha256 is not None and row.signed_pdf_sha256 is None,
        "signed": row.signed_pdf_sha256 is not None,
        "conditions": True,  # the kind's current ones, or the signed copy
    }
    return [(name, DOCUMENT_LABELS[name]) for name in DOCUMENT_NAMES if stored[name]]


async def consult_page(
    ctx: DealerPage,
    row: Proposal,
    *,
    status_code: int = 200,
    form: dict[str, str] | None = None,
    field_errors: dict[str, str] | None = None,
    error: str | None = None,
    notice: str | None = None,
) -> Response:
    await ctx.session.refresh(row)
    context: dict[str, Any] = {
        "p": row,
        "state_label": STATE_LABELS.get(row.state, row.state),
        "price": euros(row.price_cents, always_cents=True),
        "steps": await proposal_timeline(ctx.session, row),
        "can": actions(ctx, row),
        "documents": documents(row),
        "form": form or contact_form(row),
        "field_errors": field_errors or {},
        "error": error,
        "version": row.state_version,
        "adv_mailto_bug": adv_mailto_for(ctx, row),
        "valid_until": french_date(row.expires_at),
        "fmt": french_datetime,
        "delivery_labels": DELIVERY_LABELS,
    }
    if notice:
        context["notice"] = notice
    return ctx.render("vendeur/consult.html", context, status_code)


def adv_mailto_for(ctx: DealerPage, row: Proposal) -> str:
    return adv_mailto(ctx.settings, row.contract_number, "envoi d'email en échec")


def contact_form(row: Proposal) -> dict[str, str]:
    return {
        "buyer_email": row.buyer_email,
        "buyer_mobile": row.buyer_mobile,
        "seller_name": row.seller_name,
        "seller_email": row.seller_email,
        "seller_phone": row.seller_phone or "",
    }


async def action_failed(ctx: DealerPage, row: Proposal, err: Exception, **page: Any) -> Response:
    """The page again, saying why the action did not happen (or that it is under way)."""
    if isinstance(err, ActionPending):
        return await consult_page(ctx, row, status_code=202, notice=PENDING_FR, **page)
    assert isinstance(err, ApiError)
    if err.status_code == 503 or err.code == "workflow_not_found":
        raise ctx.error(503 if err.status_code == 503 else 404, UNAVAILABLE_FR, row.contract_number)
    return await consult_page(ctx, row, status_code=409, error=REFUSED_FR, **page)


def form_update_id(ctx: DealerPage, event: str) -> str | None:
    """The update of the version the form was shown for: a retried form is the same update."""
    version = ctx.field("version", 20)
    return f"{event}/v{int(version)}" if version.isdigit() else None


# --- pages ------------------------------------------------------------------------------------


@router.get("/propositions/{proposal_id:uuid}")
async def consult(proposal_id: uuid.UUID, ctx: DealerPageDep) -> Response:
    return await consult_page(ctx, await owned(ctx, proposal_id))


@router.get("/propositions/{proposal_id:uuid}/documents/{name}")
async def document(proposal_id: uuid.UUID, name: str, ctx: DealerPageDep) -> Response:
    row = await owned(ctx, proposal_id)
    try:
        content, filename = proposal_pdf(row, name.removesuffix(".pdf"), ctx.settings, ctx.request.url.path)
    except ActionPending:
        return await consult_page(
            ctx, row, status_code=202, notice="Le document est en préparation : réessayez dans un instant."
        )
    except ApiError:
        raise ctx.error(
            404, "Ce document n'existe pas (encore) pour cette proposition.", row.contract_number
        ) from None
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@router.post("/propositions/{proposal_id:uuid}/coordonnees")
async def edit_contacts(proposal_id: uuid.UUID, ctx: DealerFormDep) -> Response:
    row = await owned(ctx, proposal_id)
    form = {name: ctx.field(name, 400) for name in CONTACT_FIELDS}
    body: dict[str, dict[str, Any]] = {"buyer": {}, "seller": {}}
    for name, (group, key, _) in CONTACT_FIELDS.items():
        value = form[name] or None
        current = getattr(row, f"{group}_{key}")
        if value != current:  # only what changed: the service resends after an email change
            body[group][key] = value
    patch = {group: fields for group, fields in body.items() if fields}
    if not patch:
        return redirect(f"/vendeur/propositions/{row.id}", "coordonnees")
    email_before = row.buyer_email
    try:
        await ctx.proposals.patch(row, patch)
    except RequestValidationError as err:  # refused before anything is written
        return await consult_page(
            ctx, row, status_code=422, form=form, field_errors=contact_errors(err.errors())
        )
    except ActionPending as err:
        return await action_failed(ctx, row, err)
    except ApiError as err:
        if err.code == "not_editable":
            return await consult_page(ctx, row, status_code=409, error=NOT_EDITABLE_FR)
        return await action_failed(ctx, row, err, form=form)
    resent = row.buyer_email.lower() != email_before.lower()
    return redirect(f"/vendeur/propositions/{row.id}", "coordonnees-renvoyee" if resent else "coordonnees")


def contact_errors(errors: Any) -> dict[str, str]:
    by_path = {(group, key): name for name, (group, key, _) in CONTACT_FIELDS.items()}
    found: dict[str, str] = {}
    for error in errors:
        loc = tuple(str(part) for part in error.get("loc", ()))[1:3]
        name = by_path.get((loc[0], loc[1])) if len(loc) == 2 else None
        if name is not None:
            found[name] = CONTACT_FIELDS[name][2]
    return found or {"buyer_email": CONTACT_FIELDS["buyer_email"][2]}


def _add_event_page(path: str, event: str, ok: str) -> None:
    async def fire(proposal_id: uuid.UUID, ctx: DealerFormDep) -> Response:
        row = await owned(ctx, proposal_id)
        if event == ProposalEvent.SEND_TO_BUYER and not ctx.principal.remote_sale_enabled:
            raise ctx.error(403, REMOTE_SALE_DISABLED_MESSAGE)
        try:
            await ctx.proposals.fire(
                row, event, EventRequest(actor="dealer"), update_id=form_update_id(ctx, event)
            )
        except (ActionPending, ApiError) as err:
            return await action_failed(ctx, row, err)
        return redirect(f"/vendeur/propositions/{row.id}", ok)

    router.add_api_route(
        f"/propositions/{{proposal_id:uuid}}/{path}", fire, methods=["POST"], name=f"page_{path}"
    )


_add_event_page("renvoyer", ProposalEvent.RESEND, "renvoyee")
_add_event_page("envoyer", ProposalEvent.SEND_TO_BUYER, "envoyee")
_add_event_page("annuler", ProposalEvent.CANCEL, "annulee")


@router.get("/propositions/{proposal_id:uuid}/annuler")
async def confirm_cancel(proposal_id: uuid.UUID, ctx: DealerPageDep) -> Response:
    """Cancelling cannot be undone: say what it does and ask again."""
    row = await owned(ctx, proposal_id)
    if not actions(ctx, row)["cancel"]:
        return await consult_page(ctx, row, status_code=409, error=REFUSED_FR)
    return ctx.render("vendeur/cancel.html", {"p": row, "version": row.state_version})
