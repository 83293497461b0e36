"""FastAPI dependencies of the owner's space: the JSON API's service, the pages' context.

The pages' context raises instead of answering (api/pages.py): a visitor who is not logged
in is redirected to the login form, a listing that is not the owner's is the space's error
page, a listing whose survey is not done redirects to the survey.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Request

from api.deps import ClockDep, CurrentOwner, SessionDep, SettingsDep
from api.errors import ApiError
from api.listings.deps import get_listing_workflows
from api.listings.service import Row, lifecycle_of
from api.owners.service import OwnerListings
from api.pages import PageError, PageRedirect, login_url
from api.security import csrf
from api.security.sessions import session_owner
from carflow.settings import Settings
from db.models import Owner

UNAVAILABLE_FR = "Le service est momentanément indisponible. Réessayez dans un instant."
NOT_FOUND_FR = "Cette expertise est introuvable."
# What `?ok=` says at the top of the page after a form succeeded.
NOTICES = {
    "enregistre": "Vos modifications sont enregistrées.",
    "questionnaire": "Merci ! Votre questionnaire est enregistré.",
    "partage": "Le rapport a été envoyé par e-mail à votre destinataire.",
    "vendu": "Votre véhicule est indiqué comme vendu.",
    "deconnecte": "Vous êtes déconnecté.",
    "reinitialise": "Votre mot de passe est changé : connectez-vous avec le nouveau.",
}


async def get_owner_listings(
    request: Request, session: SessionDep, settings: SettingsDep, owner: CurrentOwner, clock: ClockDep
) -> OwnerListings:
    return OwnerListings(session, settings, owner, lambda: get_listing_workflows(request, settings), clock)


OwnerListingsDep = Annotated[OwnerListings, Depends(get_owner_listings)]


# --- the pages' context ------------------------------------------------------------------------


def space_context(request: Request, context: dict[str, Any], owner: Owner | None = None) -> dict[str, Any]:
    """What every page of the space shows: who is logged in, the notice of `?ok=`."""
    notice = NOTICES.get(request.query_params.get("ok", ""))
    return {"owner": owner, "notice": notice, **context}


def error_page(
    request: Request, status_code: int, message: str, owner: Owner | None = None, **extra: Any
) -> PageError:
    """The space's error page, to raise."""
    return PageError(
        status_code, "espace/error.html", space_context(request, {"message": message, **extra}, owner)
    )


class OwnerPage:
    """The logged-in owner of a page of the space, and their listings."""

    def __init__(self, request: Request, session: Any, settings: Settings, clock: Any, owner: Owner) -> None:
        self.request = request
        self.session = session
        self.settings = settings
        self.clock = clock
        self.owner = owner
        self.service = OwnerListings(
            session, settings, owner, lambda: get_listing_workflows(request, settings), clock
        )

    async def listing(self, listing_id: str, *, full: bool = False, surveyed: bool = True) -> Row:
        """The owner's listing; redirects to the survey while the survey is not done."""
        try:
            row = await self.service.get(uuid.UUID(listing_id), full=full)
        except (ValueError, ApiError):
            raise error_page(self.request, 404, NOT_FOUND_FR, self.owner) from None
        if surveyed and not lifecycle_of(row.listing).surveyed():
            raise PageRedirect(f"/espace/annonces/{row.listing.id}/questionnaire")
        return row

    def csrf_ok(self, form: Any) -> bool:
        return csrf.form_token_valid(self.request, self.settings, str(form.get("csrf") or ""))

    def refused(self, err: ApiError) -> PageError:
        """The error page for an action the listing's workflow (or Temporal's absence) refused."""
        if err.status_code == 503:
            # Who to ask while it lasts, on the page itself (never the API's JSON).
            support = f" Si le problème persiste, contactez le support : {self.settings.support_email}."
            return error_page(self.request, 503, UNAVAILABLE_FR + support, self.owner)
        if err.code == "survey_required":
            return error_page(
                self.request, 409, "Complétez d'abord le questionnaire de satisfaction.", self.owner
            )
        return error_page(
            self.request,
            err.status_code,
            "Cette action n'est plus possible : votre annonce a changé d'état. Voici où elle en est.",
            self.owner,
        )


async def owner_page(
    request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> OwnerPage:
    """The page's context, or a redirect to the login form (back here once logged in)."""
    owner = await session_owner(request, session, settings)
    if owner is None:
        raise PageRedirect(login_url("/espace/connexion", request.url.path))
    return OwnerPage(request, session, settings, clock, owner)


Page = Annotated[OwnerPage, Depends(owner_page)]
