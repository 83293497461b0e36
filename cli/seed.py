"""`carflow seed`: bulk read-model rows for measuring the read side at scale.

Writes proposals (with their dealers) and listings (with their owners and inspections)
straight into the database, in batches of multi-row INSERTs: about 100,000 of each in well
under a minute on PostgreSQL. French names, cities and makes with their accents (Hélène,
Besançon, Citroën), one dealer holding 20 % of the proposals, 30 % of the listings public,
states spread over each lifecycle, dates over the last months. Deterministic for a seed.

Read model only: no workflow is started. The rows look like what the `records` activity
writes, so every list, search, detail and ADV page reads them; an action on one (send,
sign, publish) finds no workflow and answers as for a lifecycle Temporal no longer has.
Use it on a database of its own (it never deletes anything).
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.accounts import create_dealer, create_staff
from db.models import Inspection, Listing, Owner, Proposal, proposal_search_text
from db.search_text import normalize

BATCH = 5000
BIG_DEALER_SHARE = 0.20
PUBLIC_SHARE = 0.30

FIRST_NAMES = (
    "Hélène", "Émile", "François", "Zoé", "Jérôme", "Anaïs", "Gaëlle", "Noël", "Béatrice", "Loïc",
    "Cécile", "Stéphane", "Amélie", "Léa", "Raphaël", "Chloé", "Timothée", "Maëlys", "Inès", "Marie",
    "Jean", "Camille", "Thomas", "Nathalie", "Océane", "Frédéric", "Valérie", "Jérémie", "Agnès", "Aurélien",
)  # fmt: skip
LAST_NAMES = (
    "Dubois", "Lefèvre", "Girard", "Mercier", "Bérenger", "Fournier", "Lemaître", "Duchêne", "Gauthier",
    "Côté", "Lécuyer", "Thévenot", "Bonnaud", "Perrin", "Moreau", "Laurent", "Roussel", "Faure", "André",
    "Ménard", "Pétain-Rivière", "Leroy", "Chevalier", "Brunet", "Hébert", "Rémy", "Noël", "Barthélemy",
)  # fmt: skip
CITIES = (
    ("Besançon", "25000"), ("Orléans", "45000"), ("Nîmes", "30000"), ("Béziers", "34500"),
    ("Saint-Étienne", "42000"), ("Angoulême", "16000"), ("Montélimar", "26200"), ("Évreux", "27000"),
    ("Lyon", "69003"), ("Paris", "75011"), ("Marseille", "13006"), ("Québec-sur-Loire", "44000"),
    ("Sète", "34200"), ("Clermont-Ferrand", "63000"), ("Châlons-en-Champagne", "51000"),
)  # fmt: skip
VEHICLES = (
    ("Citroën", ("C3", "C4", "C5 Aircross", "Berlingo")), ("Renault", ("Clio", "Mégane", "Captur", "Scénic")),
    ("Peugeot", ("208", "308", "3008", "Partner")), ("Dacia", ("Sandero", "Duster", "Logan")),
    ("Volkswagen", ("Golf", "Polo", "Tiguan")), ("Toyota", ("Yaris", "Corolla", "C-HR")),
    ("Škoda", ("Octavia", "Fabia")), ("Mercedes-Benz", ("Classe A", "Classe C")),
)  # fmt: skip
STREETS = (
    "rue de la Paix",
    "avenue Jean-Jaurès",
    "place de l'Église",
    "chemin des Écoliers",
    "rue Émile-Zola",
)
PRODUCTS = (
    ("GAR-24", "Garantie panne mécanique 24 mois", "insurance", 49000, 24),
    ("GAR-12", "Garantie sérénité 12 mois", "insurance", 29000, 12),
    ("ENT-36", "Contrat d'entretien 36 mois", "service", 89000, 36),
)
# How a real population spreads over each lifecycle (weights).
PROPOSAL_STATES = (
    ("draft", 15), ("sent", 25), ("viewed", 15), ("signing", 8), ("signed", 10), ("binding", 12),
    ("expired", 8), ("withdrawn", 2), ("declined", 3), ("cancelled", 2),
)  # fmt: skip
LISTING_PRIVATE_STATES = (
    ("pending_survey", 35),
    ("private", 30),
    ("expired", 15),
    ("sold", 12),
    ("archived", 8),
)
EMAIL_FAILED_SHARE = 0.005  # of sent proposals: the ADV stuck list's share


@dataclass
class Seeded:
    dealers: list[tuple[str, str]] = field(default_factory=list)  # (id, API key), the big one first
    staff_token: str = ""
    proposals: int = 0
    listings: int = 0
    seconds: float = 0.0


def _fold(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace(" ", "")


class Rows:
    """The row factory: one `random.Random`, so a seed gives the same rows."""

    def __init__(self, seed: int, now: datetime) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.tag = uuid.uuid4().hex[:6]  # random: unique columns stay unique when seeding again
        self.people = 0

    def _person(self) -> tuple[str, str, str]:
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        self.people += 1
        return first, last, f"{_fold(first)}.{_fold(last)}.{self.tag}{self.people}@example.fr"

    def _vehicle(self) -> tuple[str, str, str, str]:
        make, models = self.rng.choice(VEHICLES)
        letters = "ABCDEFGHJKLMNPRSTVWXYZ"
        plate = (
            f"{self.rng.choice(letters)}{self.rng.choice(letters)}-{self.rng.randrange(1000):03d}-"
            f"{self.rng.choice(letters)}{self.rng.choice(letters)}"
        )
        vin = "VF" + "".join(self.rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(15))
        return make, self.rng.choice(models), plate, vin

    def _moment(self, days: int) -> datetime:
        return self.now - timedelta(seconds=self.rng.randrange(days * 86400))

    def proposal(self, index: int, dealer_id: uuid.UUID) -> dict[str, Any]:
        first, last, email = self._person()
        make, model, plate, vin = self._vehicle()
        city, postal = self.rng.choice(CITIES)
        code, label, kind, price, months = self.rng.choice(PRODUCTS)
        state = self.rng.choices([s for s, _ in PROPOSAL_STATES], [w for _, w in PROPOSAL_STATES])[0]
        created = self._moment(180)
        updated = min(self.now, created + timedelta(seconds=self.rng.randrange(20 * 86400)))
        sent = state != "draft"
        seller_first, seller_last, seller_email = self._person()
        signed = state in ("signed", "binding", "withdrawn")
        row: dict[str, Any] = {
            "id": uuid.uuid4(),
            "dealer_id": dealer_id,
            "contract_number": f"S{self.tag}{index:09d}"[:20],
            "buyer_token_hash": hashlib.sha256(f"{self.tag}:{index}".encode()).hexdigest(),
            "product_code": code,
            "product_label": label,
            "product_kind": kind,
            "price_cents": price,
            "duration_months": months,
            "buyer_first_name": first,
            "buyer_last_name": last,
            "buyer_email": email,
            "buyer_mobile": f"06{self.rng.randrange(10**8):08d}",
            "buyer_address_line1": f"{self.rng.randrange(1, 120)} {self.rng.choice(STREETS)}",
            "buyer_postal_code": postal,
            "buyer_city": city,
            "vehicle_vin": vin,
            "vehicle_registration": plate,
            "vehicle_make": make,
            "vehicle_model": model,
            "vehicle_first_registration": date(self.rng.randrange(2012, 2025), self.rng.randrange(1, 13), 1),
            "vehicle_mileage_km": self.rng.randrange(1000, 180000),
            "seller_name": f"{seller_first} {seller_last}",
            "seller_email": seller_email,
            "seller_phone": None,
            "created_at": created,
            "state": state,
            "state_version": self.rng.randrange(1, 8),
            "updated_at": updated,
            "expires_at": created + timedelta(days=30),
            "first_sent_at": created if sent else None,
            "last_sent_at": created if sent else None,
            "sent_count": 1 if sent else 0,
            "email_failed": state == "sent" and self.rng.random() < EMAIL_FAILED_SHARE / 0.25,
            "email_error": None,
            "signed_at": updated if signed else None,
            "withdrawal_deadline": updated + timedelta(days=14) if signed else None,
            "contract_status": {"signed": "active", "binding": "active", "withdrawn": "withdrawn"}.get(
                state, "none"
            ),
        }
        # What the ORM's insert events would write (a bulk insert bypasses them): the searches
        # read these normalized columns only.
        row["search_text"] = proposal_search_text(SimpleNamespace(**row))  # type: ignore[arg-type]
        return row

    def owner(self) -> dict[str, Any]:
        first, last, email = self._person()
        return {
            "id": uuid.uuid4(),
            "email": email,
            "first_name": first,
            "last_name": last,
            "created_at": self._moment(365),
        }

    def listing(self, index: int, owner_id: uuid.UUID) -> tuple[dict[str, Any], dict[str, Any]]:
        make, model, plate, vin = self._vehicle()
        city, _ = self.rng.choice(CITIES)
        created = self._moment(300)
        inspection = {
            "id": uuid.uuid4(),
            "owner_id": owner_id,
            "inspector_id": None,
            "report_token_hash": hashlib.sha256(f"report:{self.tag}:{index}".encode()).hexdigest(),
            "reference": f"E{self.tag}{index:09d}"[:20],
            "vehicle_make": make,
            "vehicle_model": model,
            "vehicle_registration": plate,
            "vehicle_vin": vin,
            "vehicle_first_registration": date(self.rng.randrange(2008, 2025), self.rng.randrange(1, 13), 1),
            "vehicle_mileage_km": self.rng.randrange(1000, 250000),
            "vehicle_fuel": self.rng.choice(("Essence", "Diesel", "Électrique", "Hybride")),
            "inspected_at": created,
            "inspection_place": city,
            "inspector_name": "Expert Auto Sàrl",
            "summary": "Véhicule en bon état général ; entretien à jour, pneumatiques à prévoir.",
            "created_at": created,
        }
        public = self.rng.random() < PUBLIC_SHARE
        states = LISTING_PRIVATE_STATES
        state = "published" if public else self.rng.choices([s for s, _ in states], [w for _, w in states])[0]
        published_at = (
            created + timedelta(days=self.rng.randrange(1, 10)) if state != "pending_survey" else None
        )
        listing = {
            "id": uuid.uuid4(),
            "inspection_id": inspection["id"],
            "owner_id": owner_id,
            "created_at": created,
            "price_cents": self.rng.randrange(20, 400) * 10000,
            "negotiable": self.rng.random() < 0.5,
            "location": city,
            "state": state,
            "state_version": self.rng.randrange(1, 6),
            "updated_at": published_at or created,
            "publicly_visible": public,
            "published_at": published_at if state in ("published", "expired", "sold", "archived") else None,
            "publication_ends_at": published_at + timedelta(days=90) if public and published_at else None,
            "survey_completed_at": published_at,
            "email_failed": False,
            # Copied from the inspection and normalized, as the ORM's insert event would.
            "make_key": normalize(make),
            "model_key": normalize(model),
            "location_key": normalize(city),
            "mileage_km": inspection["vehicle_mileage_km"],
        }
        return inspection, listing


async def _bulk(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` into `model`'s table: COPY on PostgreSQL, executemany elsewhere.

    Columns a row leaves out get their model default, so a column added later with a
    default needs no change here.
    """
    table = model.__table__
    columns = [column.key for column in table.columns]
    for row in rows:
        for column in table.columns:
            if column.key not in row:
                default = column.default
                if default is None:
                    row[column.key] = None
                elif getattr(default, "is_callable", False):
                    row[column.key] = default.arg(None)  # type: ignore[union-attr]
                else:
                    row[column.key] = getattr(default, "arg", None)
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        await connection.execute(insert(table), rows)
        return
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.copy_records_to_table(
        table.name, records=[tuple(row[c] for c in columns) for row in rows], columns=columns
    )


def _batches(total: int) -> Iterator[range]:
    for start in range(0, total, BATCH):
        yield range(start, min(total, start + BATCH))


async def seed(
    sessions: async_sessionmaker[AsyncSession],
    *,
    proposals: int,
    listings: int,
    dealers: int = 10,
    seed_value: int = 12,
    progress: Callable[[str], None] = lambda _: None,
) -> Seeded:
    started = time.perf_counter()
    rows = Rows(seed_value, datetime.now(UTC))
    done = Seeded()
    async with sessions() as session:
        for number in range(max(dealers, 1)):
            created = await create_dealer(
                session, f"Garage Dupré-Bérard n°{number + 1}", email=f"g{number}@example.fr"
            )
            done.dealers.append((str(created.id), created.token))
        done.staff_token = (await create_staff(session, "ADV Hélène")).token
        await session.commit()
    dealer_ids = [uuid.UUID(d) for d, _ in done.dealers]

    def dealer_for(index: int) -> uuid.UUID:
        if len(dealer_ids) == 1 or rows.rng.random() < BIG_DEALER_SHARE:
            return dealer_ids[0]
        return rows.rng.choice(dealer_ids[1:])

    async with sessions() as session:
        if (await session.connection()).dialect.name == "postgresql":
            # Bench data: a crash may lose the last batches, no need to wait for each flush.
            await session.execute(text("SET synchronous_commit TO off"))
        for batch in _batches(proposals):
            await _bulk(session, Proposal, [rows.proposal(i, dealer_for(i)) for i in batch])
            await session.commit()
            done.proposals = batch.stop
            progress(f"proposals {done.proposals}/{proposals} ({time.perf_counter() - started:.1f} s)")
        for batch in _batches(listings):
            owners = [rows.owner() for _ in batch]
            pairs = [rows.listing(i, owners[n]["id"]) for n, i in enumerate(batch)]
            await _bulk(session, Owner, owners)
            await _bulk(session, Inspection, [inspection for inspection, _ in pairs])
            await _bulk(session, Listing, [listing for _, listing in pairs])
            await session.commit()
            done.listings = batch.stop
            progress(f"listings {done.listings}/{listings} ({time.perf_counter() - started:.1f} s)")
        if (await session.connection()).dialect.name == "postgresql":
            # Fresh statistics, or the planner picks its plans for the empty tables.
            for table in ("proposals", "owners", "inspections", "listings"):
                await session.execute(text(f"ANALYZE {table}"))
            await session.commit()
    done.seconds = time.perf_counter() - started
    return done
