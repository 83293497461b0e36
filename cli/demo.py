"""Demonstration data for `make run`: a dealer with a token to try the API at once.

Loaded on the first start only. Its tokens are kept in var/demo-credentials.json (dev profile
only) so the start-up banner can show them again; real tokens are never written anywhere.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from carflow.settings import Settings
from db.accounts import create_dealer, create_inspector, create_staff
from db.models import Dealer

DEMO_DEALER = "Garage des Tilleuls (démo)"


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
        return None
    dealer = await create_dealer(
        session,
        DEMO_DEALER,
        email="contact@garage-tilleuls.example",
        phone="01 23 45 67 89",
        address="12 avenue des Tilleuls, 69003 Lyon",
    )
    no_remote = await create_dealer(
        session, "Auto Sud, sans vente à distance (démo)", remote_sale_enabled=False
    )
    staff = await create_staff(session, "ADV (démo)")
    inspector = await create_inspector(session, "Expert (démo)")
    await session.commit()
    credentials = {
        "dealer": {"id": str(dealer.id), "name": DEMO_DEALER, "token": dealer.token},
        "dealer_without_remote_sale": {"id": str(no_remote.id), "token": no_remote.token},
        "staff": {"id": str(staff.id), "token": staff.token},
        "inspector": {"id": str(inspector.id), "token": inspector.token},
    }
    path = credentials_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(credentials, handle, indent=2, ensure_ascii=False)
    return credentials
