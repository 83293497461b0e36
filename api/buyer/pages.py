"""The buyer's pages under /p/{token}: French, server-rendered, no JavaScript needed.

Forms post back here and redirect (303) to the page of the step the proposal is in, so a
reload never submits twice; a refused or invalid step re-renders with its message. An
unknown link raises the "not found" page (api/pages.py).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from activities.contract_context import contract_context
from activities.document_templates import conditions_template
from api.buyer.deps import Buyer, app_signature_provider
from api.buyer.service import AcceptForm, BuyerService, csrf_token
from api.errors import ApiError
from api.pages import PageError
from api.proposals.views import lifecycle_of
from api.templating import templates

router = APIRouter(prefix="/p", include_in_schema=False)

STATE_PAGES = {
    "sent": "buyer/proposal.html",
    "viewed": "buyer/proposal.html",
    "draft": "buyer/unavailable.html",
    "signing": "buyer/sign.html",
    "signed": "buyer/signed.html",
    "binding": "buyer/signed.html",
    "withdrawn": "buyer/closed.html",
    "declined": "buyer/closed.html",
    "cancelled": "buyer/closed.html",
    "expired": "buyer/expired.html",
}


def render(
    request: Request, token: str, view: dict[str, Any], status_code: int = 200, **extra: Any
) -> Response:
    settings = request.app.state.settings
    context = {
        "token": token,
        "p": view,
        "csrf": csrf_token(settings, token),
        "provider": settings.signature_provider,
        **extra,
    }
    return templates.TemplateResponse(
        request, STATE_PAGES.get(view["state"], "buyer/closed.html"), context, status_code=status_code
    )


def not_found(message: str) -> PageError:
    return PageError(404, "buyer/not_found.html", {"message": message}, form_token=False)


def check_csrf(request: Request, token: str, submitted: str) -> None:
    import hmac

    if not hmac.compare_digest(submitted, csrf_token(request.app.state.settings, token)):
        expired = "Formulaire expiré : rechargez la page et recommencez."
        raise ApiError(403, "csrf_failed", expired, message_fr=expired)


async def current(buyer: BuyerService, token: str) -> dict[str, Any]:
    proposal, dealer = await buyer.find(token)
    return buyer.view(proposal, dealer, await buyer.lifecycle(proposal))


async def step_failed(
    request: Request, buyer: BuyerService, token: str, error: ApiError, **extra: Any
) -> Response:
    if error.code == "unknown_link":
        raise not_found(error.message) from None
    view = await current(buyer, token)
    fields = {f["field"]: f["message"] for f in error.details.get("fields", [])}
    message = None if fields else _french(error)
    return render(request, token, view, error.status_code, error=message, field_errors=fields, **extra)


UNAVAILABLE_FR = (
    "Le service est momentanément indisponible : votre demande n'a pas pu être enregistrée. "
    "Réessayez dans quelques minutes ; si le problème persiste, contactez votre concessionnaire "
    "(coordonnées ci-dessous)."
)


def _french(error: ApiError) -> str:
    if error.status_code == 503:
        return UNAVAILABLE_FR
    if error.code == "transition_not_allowed":
        reason = str(error.details.get("reason") or "")
        if "withdrawal window ended" in reason:
            return "Le délai de rétractation est dépassé : le contrat ne peut plus être annulé en ligne."
        return "Cette étape n'est plus possible : la proposition a changé d'état. Voici où elle en est."
    return error.message


@router.get("/{token}", response_class=HTMLResponse)
async def page(request: Request, token: str, buyer: Buyer) -> Response:
    try:
        _, _, view = await buyer.open(token)
    except ApiError as error:
        if error.code == "unknown_link":
            raise not_found(error.message) from None
        raise
    return render(request, token, view)


@router.get("/{token}/conditions", response_class=HTMLResponse)
async def conditions(request: Request, token: str, buyer: Buyer) -> Response:
    try:
        view = await current(buyer, token)
    except ApiError as error:
        raise not_found(error.message) from None
    # The same text as the PDF, as a page: one source for both.
    template = request.app.state.pdf_templates.get_template(conditions_template(view["product"]["kind"]))
    return HTMLResponse(template.render())


@router.get("/{token}/apercu", response_class=HTMLResponse)
async def contract_preview(request: Request, token: str, buyer: Buyer) -> Response:
    """The contract to sign as a page (shown inline on the signing step): the same template
    and data as its PDF, rendered as HTML, so the buyer reads it without opening a file."""
    try:
        proposal, dealer = await buyer.find(token)
    except ApiError as error:
        raise not_found(error.message) from None
    if not lifecycle_of(proposal).contract_reviewable():
        raise not_found("Le contrat de cette proposition n'est pas consultable.")
    template = request.app.state.pdf_templates.get_template("contract.html")
    return HTMLResponse(template.render(c=contract_context(proposal, dealer)))


@router.get("/{token}/contract.pdf")
async def contract_pdf(token: str, buyer: Buyer) -> Response:
    """The contract to review; "en préparation" (refreshing) until the worker has made it."""
    try:
        content = await buyer.contract_pdf(token)
    except ApiError as error:
        raise not_found(error.message) from None
    return Response(content, media_type="application/pdf")


@router.get("/{token}/documents/{name}.pdf")
async def document(token: str, name: str, buyer: Buyer) -> Response:
    try:
        proposal, _ = await buyer.find(token)
    except ApiError as error:
        raise not_found(error.message) from None
    content = buyer.document(proposal, name, token)
    if content is None:
        raise not_found("Ce document n'existe pas (encore) pour cette proposition.")
    return Response(content, media_type="application/pdf")


@router.post("/{token}/accept")
async def accept(
    request: Request,
    token: str,
    buyer: Buyer,
    csrf: Annotated[str, Form()] = "",
    cg_accepted: Annotated[bool, Form()] = False,
    iban: Annotated[str, Form(max_length=64)] = "",
    account_holder: Annotated[str, Form(max_length=200)] = "",
    no_claim: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, token, csrf)
    answer = {"yes": True, "no": False}.get(no_claim)  # yes = "aucun sinistre"
    try:
        await buyer.accept(token, AcceptForm(cg_accepted, iban, account_holder, answer))
    except ApiError as error:
        return await step_failed(
            request,
            buyer,
            token,
            error,
            form={
                "iban": iban,
                "account_holder": account_holder,
                "no_claim": no_claim,
                "cg_accepted": cg_accepted,
            },
        )
    return RedirectResponse(f"/p/{token}", status_code=303)


@router.post("/{token}/sign")
async def sign(
    request: Request,
    token: str,
    buyer: Buyer,
    csrf: Annotated[str, Form()] = "",
    full_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_csrf(request, token, csrf)
    try:
        await buyer.sign(token, full_name, request)
    except ApiError as error:
        return await step_failed(request, buyer, token, error, form={"full_name": full_name})
    return RedirectResponse(f"/p/{token}?signe=1", status_code=303)


@router.post("/{token}/docusign")
async def sign_at_provider(
    request: Request, token: str, buyer: Buyer, csrf: Annotated[str, Form()] = ""
) -> Response:
    """The "Signer" button with DocuSign: to a fresh embedded-signing page, then back here."""
    check_csrf(request, token, csrf)
    provider = app_signature_provider(request, request.app.state.settings)
    try:
        url = await buyer.provider_signing_url(token, provider)
    except ApiError as error:
        return await step_failed(request, buyer, token, error)
    if url is None:
        return await step_failed(
            request,
            buyer,
            token,
            ApiError(409, "envelope_pending", "La signature se prépare : réessayez dans quelques secondes."),
        )
    return RedirectResponse(url, status_code=303)


def _add_one_click_step(event: str, *, irreversible: bool) -> None:
    """A step that is one button: fire `event`, show where it stands. One that cannot be undone
    (withdraw, decline) first shows what it will do and asks again; going back (abandon) does not."""

    async def step(
        request: Request,
        token: str,
        buyer: Buyer,
        csrf: Annotated[str, Form()] = "",
        confirmed: Annotated[str, Form()] = "",
    ) -> Response:
        check_csrf(request, token, csrf)
        if irreversible and confirmed != "yes":
            view = await current(buyer, token)
            if event in view["actions"]:
                context = {"token": token, "p": view, "csrf": csrf_token(request.app.state.settings, token)}
                return templates.TemplateResponse(request, "buyer/confirm.html", {**context, "event": event})
        try:
            await buyer.simple(token, event)
        except ApiError as error:
            return await step_failed(request, buyer, token, error)
        return RedirectResponse(f"/p/{token}", status_code=303)

    router.add_api_route(f"/{{token}}/{event}", step, methods=["POST"], name=event)


for _event in ("withdraw", "decline"):
    _add_one_click_step(_event, irreversible=True)
_add_one_click_step("abandon", irreversible=False)
