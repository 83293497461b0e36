"""A centre's sales seeded straight into the read model, for the activity's tests (issue 13):
the figures they give are worked out by hand in tests/dealer_app/test_activity_figures.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from proposal_harness import proposal_row

from carflow.settings import Settings
from db.accounts import create_dealer

DAY = 86400.0
PAUL = "paul@garage.example"
JULIE = "julie@garage.example"


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# (seller, created, first sent, first viewed, signed, withdrawn, state, expires)
SALES: list[dict[str, Any]] = [
    # Sent, opened, signed two days later; the window closed.
    dict(seller=PAUL, sent=at(2026, 3, 10), viewed=at(2026, 3, 11), signed=at(2026, 3, 12), state="binding"),
    # Signed four days after sending, withdrawn in April.
    dict(
        seller=PAUL,
        sent=at(2026, 3, 20),
        viewed=at(2026, 3, 21),
        signed=at(2026, 3, 24),
        withdrawn=at(2026, 4, 2),
        state="withdrawn",
    ),
    # Sent at 00:30 in Paris on 1 May (still 30 April in UTC): a May sending. Never opened;
    # expired at 00:30 in Paris on 1 June: a June expiry.
    dict(seller=JULIE, sent=at(2026, 4, 30, 22, 30), state="expired", expires=at(2026, 5, 31, 22, 30)),
    # Six days to sign.
    dict(seller=JULIE, sent=at(2026, 6, 5), viewed=at(2026, 6, 6), signed=at(2026, 6, 11), state="signed"),
    # Face to face from a devis never sent: one hour from its creation to the signature.
    dict(seller=PAUL, created=at(2026, 6, 1, 8), signed=at(2026, 6, 1, 9), state="signed"),
    # Sent before the period, signed in January (46 days): its signature counts, its sending not.
    dict(seller=PAUL, sent=at(2025, 11, 20), signed=at(2026, 1, 5), state="binding"),
    # A draft, never sent: nothing to count.
    dict(seller=PAUL, created=at(2026, 7, 1), state="draft"),
]


async def seed(session_factory, settings: Settings, sales: list[dict[str, Any]]) -> uuid.UUID:
    async with session_factory() as session:
        dealer = await create_dealer(session, f"Garage {uuid.uuid4().hex[:6]}")
        for sale in sales:
            created = sale.get("created") or sale["sent"] - timedelta(hours=1)
            session.add(
                proposal_row(
                    settings,
                    dealer.id,
                    created_at=created,
                    seller_email=sale["seller"].upper() if sale["seller"] == JULIE else sale["seller"],
                    seller_name="Julie Martin" if sale["seller"] == JULIE else "Paul Vendeur",
                    first_sent_at=sale.get("sent"),
                    first_viewed_at=sale.get("viewed"),
                    signed_at=sale.get("signed"),
                    withdrawn_at=sale.get("withdrawn"),
                    state=sale["state"],
                    expires_at=sale.get("expires") or created + timedelta(days=30),
                    sent_count=1 if sale.get("sent") else 0,
                )
            )
        await session.commit()
    return dealer.id
