"""Every router of the app, in the order `create_app` includes them (api/app.py).

Requests are matched against routes in this order. The dev mailbox is mounted only with
the dev profile.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.adv import pages as adv_pages
from api.adv import routes as adv
from api.buyer import pages as buyer_pages
from api.buyer import routes as buyer
from api.buyer import webhook as docusign_webhook
from api.dealer_app import routers as dealer_app_routers
from api.inspections import routes as inspections
from api.listings import pages as public_pages
from api.listings import routes as public_listings
from api.owners import pages as owner_pages
from api.owners import routes as owner
from api.platform import mailbox
from api.platform import routes as platform
from api.proposals import routes as proposals
from carflow.settings import Settings


def app_routers(settings: Settings) -> list[APIRouter]:
    routers = [
        platform.router,  # health, who am I, the home page
        proposals.router,
        buyer.router,
        buyer_pages.router,
        inspections.router,
        owner.router,
        public_listings.router,
        owner_pages.router,
        public_pages.router,
        public_pages.report_router,
        docusign_webhook.router,
        adv.router,
        adv_pages.router,
        *dealer_app_routers,  # the dealer's web app, /vendeur (issue 13)
    ]
    if settings.dev:
        routers.append(mailbox.router)
    return routers
