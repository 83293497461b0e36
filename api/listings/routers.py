"""Every router of the listing side, in the order the app includes them (api/app.py)."""

from __future__ import annotations

from fastapi import APIRouter

from api.routes import inspections, owner, owner_pages, public_listings, public_pages, reports

LISTING_ROUTERS: tuple[APIRouter, ...] = (
    inspections.router,
    owner.router,
    public_listings.router,
    owner_pages.router,
    public_pages.router,
    reports.router,
)
