"""`carflow seed`: realistic read-model rows, fast, on SQLite and PostgreSQL (small N here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

from sqlalchemy import func, select

from cli.seed import seed
from db.models import Dealer, Inspection, Listing, Owner, Proposal


async def test_seed_writes_the_shares_and_accents_asked(session_factory, migrated) -> None:
    lines: list[str] = []
    done = await seed(session_factory, proposals=6000, listings=3000, dealers=5, progress=lines.append)
    assert (done.proposals, done.listings, len(done.dealers)) == (6000, 3000, 5)
    assert lines[-1].startswith("listings 3000/3000") and any(
        line.startswith("proposals 5000/6000") for line in lines
    )
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Proposal)) == 6000
        assert await session.scalar(select(func.count()).select_from(Listing)) == 3000
        assert await session.scalar(select(func.count()).select_from(Inspection)) == 3000
        assert await session.scalar(select(func.count()).select_from(Owner)) == 3000
        assert await session.scalar(select(func.count()).select_from(Dealer)) == 5
        # The searches' normalized columns are written as the ORM would: seeded rows are found.
        assert await session.scalar(select(func.count()).where(Proposal.search_text == "")) == 0
        assert await session.scalar(select(func.count()).where(Listing.make_key == "")) == 0
        assert await session.scalar(select(func.count()).where(Listing.mileage_km == 0)) == 0
        big = await session.scalar(
            select(func.count())
            .select_from(Proposal)
            .where(Proposal.dealer_id == uuid.UUID(done.dealers[0][0]))
        )
        public = await session.scalar(
            select(func.count()).select_from(Listing).where(Listing.publicly_visible.is_(True))
        )
        states = dict(
            (await session.execute(select(Proposal.state, func.count()).group_by(Proposal.state))).all()
        )
        names = set(await session.scalars(select(Proposal.buyer_last_name).distinct()))
        makes = set(await session.scalars(select(Inspection.vehicle_make).distinct()))
    # One dealer holds 20 %, 30 % of the listings are public.
    assert 0.17 < big / 6000 < 0.23
    assert 0.26 < public / 3000 < 0.34
    assert {"draft", "sent", "signing", "binding", "expired"} <= set(states)
    assert {"Lefèvre", "Duchêne", "Côté"} <= names and "Citroën" in makes
    # A second run adds rows beside the first ones (unique columns stay unique).
    again = await seed(session_factory, proposals=10, listings=10, dealers=1)
    assert again.proposals == 10


def test_carflow_seed_command_prints_the_tokens(migrated) -> None:
    env = {**os.environ, "CARFLOW_DATABASE_URL": migrated.database_url}
    if migrated.database_schema:
        env["CARFLOW_DATABASE_SCHEMA"] = migrated.database_schema
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "seed", "--proposals", "30", "--listings", "20", "--dealers", "2"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    out = json.loads(result.stdout)
    assert (out["proposals"], out["listings"], len(out["dealers"])) == (30, 20, 2)
    assert out["dealers"][0]["token"] and out["staff_token"]
    assert "proposals 30/30" in result.stderr
