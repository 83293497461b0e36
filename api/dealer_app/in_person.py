"""Face-to-face signing in the dealer's web app, "signature électronique" (issue 13).

With the buyer at the desk: the dealer enters the buyer's IBAN and account holder, the buyer
ticks the general conditions and the no-claim attestation on the dealer's screen, the
dealer sends the SMS code; then types the code the buyer reads aloud, beside the contract
to sign, validates, and clicks "Terminer". Every step is the dealer API's face-to-face
service (api/proposals/in_person.py): the same checks, codes, tries and workflow updates.
"""

from __future__ import annotations

import re
import uuid

from fastapi import APIRouter
from fastapi.responses import Response

from api.body_limit import body_limited_route
from api.dealer_app.consult import actions, owned
from api.dealer_app.deps import NOTICES, DealerFormDep, DealerPage, DealerPageDep, redirect
from api.errors import ApiError
from api.lifecycle_client import ActionPending
from api.proposals import in_person
from api.proposals.deps import REMOTE_SALE_DISABLED_MESSAGE
from db.models import Proposal

router = APIRouter(prefix="/vendeur", include_in_schema=False, route_class=body_limited_route(32 * 1024))

NOTICES["termine"] = (
    "La vente est terminée : le contrat est actif. Votre acheteur reçoit son contrat signé et ses "
    "conditions générales dans sa boîte email."
)
NOT_OPEN_FR = "La signature en face à face n'est pas possible pour cette proposition dans son état actuel."
PENDING_FR = (
    "Votre demande est en cours de traitement : elle a bien été reçue. Patientez quelques instants puis "
    "rechargez la page ; inutile de recommencer."
)
UNAVAILABLE_FR = (
    "Une erreur technique empêche pour l'instant la signature. Réessayez dans quelques minutes ; si le "
    "souci persiste, signalez-le au service ADV en précisant le numéro du contrat."
)
# The service's fields, in French next to each (the IBAN's own message is already French,
# the buyer's pages show the same).
START_MESSAGES = {
    "cg_accepted": "Votre client doit prendre connaissance des conditions générales et les accepter.",
    "no_claim_since_sent": "Votre client doit attester que son véhicule n'a pas connu de sinistre.",
    "account_holder": "Indiquez le titulaire du compte.",
}
FORM_NAMES = {"no_claim_since_sent": "no_claim"}
FORM_ORDER = ("iban", "account_holder", "cg_accepted", "no_claim")
CODE_MESSAGES = {
    "code_format": "Saisissez les 6 chiffres du code reçu par SMS par votre client.",
    "wrong_code": "Ce code n'est pas le bon : il reste {left} essai(s).",
    "code_expired": "Ce code a expiré (10 minutes) : envoyez un nouveau code.",
    "code_locked": "Trop de codes erronés : envoyez un nouveau code.",
    "no_code": "Aucun code n'a encore été envoyé : envoyez d'abord le code par SMS.",
}
SIX_DIGITS = re.compile(r"^\d{6}$")


def base(row: Proposal) -> str:
    return f"/vendeur/propositions/{row.id}/face-a-face"


def remote_sale_gate(ctx: DealerPage) -> None:
    """As the API's in-person route: without the remote-sale option, no signing here either."""
    if not ctx.principal.remote_sale_enabled:
        raise ctx.error(403, REMOTE_SALE_DISABLED_MESSAGE)


def failed(ctx: DealerPage, row: Proposal, err: ApiError) -> Response | None:
    if err.status_code == 503 or err.code == "workflow_not_found":
        raise ctx.error(503 if err.status_code == 503 else 404, UNAVAILABLE_FR, row.contract_number)
    return None


@router.get("/propositions/{proposal_id:uuid}/face-a-face")
async def start_form(proposal_id: uuid.UUID, ctx: DealerPageDep) -> Response:
    row = await owned(ctx, proposal_id)
    remote_sale_gate(ctx)
    can = actions(ctx, row)
    if not (can["in_person"] or can["in_person_code"]):
        raise ctx.error(409, NOT_OPEN_FR, row.contract_number)
    return ctx.render("vendeur/in_person_start.html", {"p": row, "form": {}, "field_errors": {}})


@router.post("/propositions/{proposal_id:uuid}/face-a-face")
async def start(proposal_id: uuid.UUID, ctx: DealerFormDep) -> Response:
    row = await owned(ctx, proposal_id)
    remote_sale_gate(ctx)
    form = {
        "iban": ctx.field("iban", 64),
        "account_holder": ctx.field("account_holder", 200),
        "cg_accepted": ctx.field("cg_accepted", 10),
        "no_claim": ctx.field("no_claim", 10),
    }
    try:
        await in_person.start(
            ctx.proposals,
            row,
            form["iban"],
            form["account_holder"],
            bool(form["cg_accepted"]),
            bool(form["no_claim"]),
        )
    except ActionPending:
        return ctx.render("vendeur/in_person_code.html", code_context(row, notice=PENDING_FR), 202)
    except ApiError as err:
        failed(ctx, row, err)
        await ctx.session.refresh(row)
        fields = err.details.get("fields") if err.code == "validation_error" else None
        if not fields:
            raise ctx.error(409, NOT_OPEN_FR, row.contract_number) from None
        # The form's names: the attestation's checkbox is `no_claim`.
        found = {FORM_NAMES.get(f["field"], f["field"]): message_of(f) for f in fields}
        # At the top in the form's order, as the reader meets the fields.
        errors = {name: found[name] for name in FORM_ORDER if name in found} | found
        return ctx.render(
            "vendeur/in_person_start.html", {"p": row, "form": form, "field_errors": errors}, 422
        )
    return redirect(f"{base(row)}/code")


def message_of(field: dict[str, str]) -> str:
    return START_MESSAGES.get(field["field"], field["message"])


def code_context(row: Proposal, **extra: object) -> dict[str, object]:
    return {"p": row, "mobile": in_person.masked_mobile(row.buyer_mobile), "field_errors": {}, **extra}


@router.get("/propositions/{proposal_id:uuid}/face-a-face/code")
async def code_form(proposal_id: uuid.UUID, ctx: DealerPageDep) -> Response:
    row = await owned(ctx, proposal_id)
    if not actions(ctx, row)["in_person_code"]:
        raise ctx.error(409, NOT_OPEN_FR, row.contract_number)
    return ctx.render("vendeur/in_person_code.html", code_context(row))


@router.post("/propositions/{proposal_id:uuid}/face-a-face/code")
async def confirm(proposal_id: uuid.UUID, ctx: DealerFormDep) -> Response:
    row = await owned(ctx, proposal_id)
    code = "".join(ctx.field("code", 20).split())
    message = None
    if not SIX_DIGITS.match(code):
        message = CODE_MESSAGES["code_format"]
    else:
        try:
            await in_person.confirm(ctx.proposals, row, code, ctx.request)
        except ActionPending:
            return ctx.render("vendeur/in_person_code.html", code_context(row, notice=PENDING_FR), 202)
        except ApiError as err:
            failed(ctx, row, err)
            template = CODE_MESSAGES.get(err.code)
            if template is None:
                raise ctx.error(409, NOT_OPEN_FR, row.contract_number) from None
            message = template.format(left=err.details.get("tries_left", 0))
    if message is not None:
        await ctx.session.refresh(row)
        return ctx.render(
            "vendeur/in_person_code.html", code_context(row, field_errors={"code": message}), 422
        )
    return redirect(f"{base(row)}/signee")


@router.get("/propositions/{proposal_id:uuid}/face-a-face/signee")
async def signed(proposal_id: uuid.UUID, ctx: DealerPageDep) -> Response:
    """The signature is validated: the signed contract, and "Terminer"."""
    row = await owned(ctx, proposal_id)
    await ctx.session.refresh(row)
    return ctx.render("vendeur/in_person_signed.html", {"p": row})


@router.post("/propositions/{proposal_id:uuid}/face-a-face/terminer")
async def finish(proposal_id: uuid.UUID, ctx: DealerFormDep) -> Response:
    row = await owned(ctx, proposal_id)
    return redirect(f"/vendeur/propositions/{row.id}", "termine")
