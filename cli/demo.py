"""Demonstration data for `make run`: a dealer with a token to try the API at once, and a
person of that dealer who logs in to the dealer web app (/vendeur) with a known password.

Loaded on the first start only. Its tokens are kept in var/demo-credentials.json (dev profile
only) so the start-up banner can show them again; real tokens are never written anywhere.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.dealer_app.users import add_user
from carflow.settings import Settings
from db.accounts import create_dealer, create_inspector, create_staff
from db.models import Dealer, DealerUser, utcnow

DEMO_DEALER = "Garage des Tilleuls (démo)"
DEMO_NO_REMOTE_DEALER = "Auto Sud, sans vente à distance (démo)"
# The dealer app's demo logins (dev profile only): printed first by `make run`, in the README.
DEMO_PASSWORD = "demo-vendeur-2026"
DEMO_USERS = (
    ("dealer", "vendeur@garage-tilleuls.example", "Paul Vendeur"),
    ("dealer_without_remote_sale", "vendeur@auto-sud.example", "Sophie Vendeuse"),
)


def credentials_path(settings: Settings) -> Path:
    return settings.var_dir / "demo-credentials.json"


def read_credentials(settings: Settings) -> dict[str, Any] | None:
    path = credentials_path(settings)
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


async def load_demo(session: AsyncSession, settings: Settings) -> dict[str, Any] | None:
    """Create the demo accounts once; None when they already exist."""
    if settings.profile != "dev":
        raise PermissionError("demo data is only for the dev profile (CARFLOW_PROFILE=dev)")
    if await session.scalar(select(Dealer.id).where(Dealer.name == DEMO_DEALER)) is not None:
        await _add_missing_users(session, settings)  # demo data of a start before the dealer app
        return None
    dealer = await create_dealer(
        session,
        DEMO_DEALER,
        email="contact@garage-tilleuls.example",
        phone="01 23 45 67 89",
        address="12 avenue des Tilleuls, 69003 Lyon",
    )
    no_remote = await create_dealer(session, DEMO_NO_REMOTE_DEALER, remote_sale_enabled=False)
    staff = await create_staff(session, "ADV (démo)")
    inspector = await create_inspector(session, "Expert (démo)")
    await session.commit()
    credentials: dict[str, dict[str, Any]] = {
        "dealer": {"id": str(dealer.id), "name": DEMO_DEALER, "token": dealer.token},
        "dealer_without_remote_sale": {"id": str(no_remote.id), "token": no_remote.token},
        "staff": {"id": str(staff.id), "token": staff.token},
        "inspector": {"id": str(inspector.id), "token": inspector.token},
    }
    for key, email, name in DEMO_USERS:
        dealer_id = uuid.UUID(credentials[key]["id"])
        await add_user(session, dealer_id, email, settings, name=name, password=DEMO_PASSWORD, now=utcnow())
        credentials[key]["login"] = {"email": email, "password": DEMO_PASSWORD}
    _write(settings, credentials)
    return credentials


async def _add_missing_users(session: AsyncSession, settings: Settings) -> None:
    """The dealer app's demo users, for demo data loaded before they existed."""
    credentials = read_credentials(settings)
    if credentials is None:
        return
    missing = [(k, e, n) for k, e, n in DEMO_USERS if k in credentials and "login" not in credentials[k]]
    if not missing:
        return
    for key, email, name in missing:
        if await session.scalar(select(DealerUser.id).where(DealerUser.email == email)) is None:
            dealer_id = uuid.UUID(credentials[key]["id"])
            await add_user(
                session, dealer_id, email, settings, name=name, password=DEMO_PASSWORD, now=utcnow()
            )
        credentials[key]["login"] = {"email": email, "password": DEMO_PASSWORD}
    _write(settings, credentials)


def _write(settings: Settings, credentials: dict[str, Any]) -> None:
    path = credentials_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(credentials, handle, indent=2, ensure_ascii=False)
