"""A real worker on the time-skipping server, a real SMTP sink, and proposal rows to drive."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from carflow.links import buyer_token_hash
from carflow.settings import Settings
from db.accounts import create_dealer
from db.models import Proposal
from statemachines.deadlines import proposal_expires_at
from statemachines.proposal import PROPOSAL_ACTORS
from workflows.proposal_contract import (
    QUERY_STATUS,
    WORKFLOW_TYPE,
    EventRequest,
    ProposalStart,
    ProposalStatus,
    proposal_id_from_workflow_id,
    proposal_workflow_id,
)

HISTORIES = Path(__file__).parent / "workflows" / "histories"


def proposal_row(
    settings: Settings,
    dealer_id: uuid.UUID,
    proposal_id: uuid.UUID | None = None,
    *,
    kind: str = "service",
    created_at: datetime | None = None,
    **overrides: Any,
) -> Proposal:
    """A proposal row as the API writes it at creation (state draft), for tests to drive."""
    proposal_id = proposal_id or uuid.uuid4()
    created_at = created_at or datetime.now(UTC)
    values: dict[str, Any] = {
        "contract_number": f"CF{proposal_id.int % 10**10:010d}",
        "product_code": "GAR24",
        "product_label": "Extension de garantie 24 mois" if kind == "insurance" else "Entretien 24 mois",
        "product_kind": kind,
        "price_cents": 49900,
        "duration_months": 24,
        "buyer_first_name": "Marie",
        "buyer_last_name": "Curie",
        "buyer_email": "marie@example.com",
        "buyer_mobile": "+33612345678",
        "buyer_address_line1": "1 rue Pierre et Marie Curie",
        "buyer_postal_code": "75005",
        "buyer_city": "Paris",
        "vehicle_vin": "VF3LCYHZPHS123456",
        "vehicle_registration": "AB-123-CD",
        "vehicle_make": "Peugeot",
        "vehicle_model": "308",
        "vehicle_first_registration": date(2021, 3, 1),
        "vehicle_mileage_km": 42000,
        "seller_name": "Paul Vendeur",
        "seller_email": "paul@garage.example",
        "expires_at": proposal_expires_at(created_at),
    }
    values.update(overrides)
    return Proposal(
        id=proposal_id,
        dealer_id=dealer_id,
        buyer_token_hash=buyer_token_hash(settings, proposal_id),
        created_at=created_at,
        **values,
    )


class Proposals:
    """Creates proposal rows and starts their workflows, as the API does."""

    def __init__(
        self,
        settings: Settings,
        session_factory: async_sessionmaker[AsyncSession],
        env: WorkflowEnvironment,
    ) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.env = env
        self.client: Client = env.client
        self.dealer_id: uuid.UUID | None = None

    async def dealer(self) -> uuid.UUID:
        if self.dealer_id is None:
            async with self.session_factory() as session:
                created = await create_dealer(
                    session, "Garage des Tilleuls", email="garage@example.com", phone="01 23 45 67 89"
                )
                await session.commit()
            self.dealer_id = created.id
        return self.dealer_id

    async def create(
        self, *, kind: str = "service", send_now: bool = False, reminders: tuple[int, int] | None = None
    ) -> WorkflowHandle:
        """A proposal's workflow; `reminders` = (days after sending, days before expiry)."""
        dealer_id = await self.dealer()
        proposal_id = uuid.uuid4()
        saved_at = await self.env.get_current_time()
        async with self.session_factory() as session:
            session.add(proposal_row(self.settings, dealer_id, proposal_id, kind=kind, created_at=saved_at))
            await session.commit()
        start = ProposalStart(
            proposal_id=str(proposal_id),
            dealer_id=str(dealer_id),
            contract_number=f"CF{proposal_id.int % 10**10:010d}",
            kind=kind,
            saved_at=saved_at,
            summary="Marie Curie — Peugeot 308 AB-123-CD",
            send_now=send_now,
            remind_after_sent_days=reminders[0] if reminders else None,
            remind_before_expiry_days=reminders[1] if reminders else None,
        )
        return await self.client.start_workflow(
            WORKFLOW_TYPE,
            start,
            id=proposal_workflow_id(proposal_id),
            task_queue=self.settings.task_queue,
            result_type=ProposalStatus,
            search_attributes=start.search_attributes(),  # as the API starts it
        )

    async def row(self, handle: WorkflowHandle) -> Proposal:
        target = proposal_id_from_workflow_id(handle.id)
        assert target is not None
        proposal_id = uuid.UUID(target)
        async with self.session_factory() as session:
            row = await session.get(Proposal, proposal_id)
            assert row is not None
            return row


def actor_of(event: str) -> str:
    """Who fires `event` when a test does not say: the dealer if they may, else whoever may."""
    actors = {str(a) for a in PROPOSAL_ACTORS.get(event, ())}
    return "dealer" if "dealer" in actors or not actors else min(actors)


async def fire(handle: WorkflowHandle, event: str, actor: str | None = None) -> ProposalStatus:
    request = EventRequest(actor=actor or actor_of(event))
    return await handle.execute_update(event, request, result_type=ProposalStatus)


async def status(handle: WorkflowHandle) -> ProposalStatus:
    return await handle.query(QUERY_STATUS, result_type=ProposalStatus)


async def record_history(handle: WorkflowHandle, name: str) -> None:
    """Keep this run's history for the replay test (when CARFLOW_RECORD_HISTORIES=1)."""
    if os.environ.get("CARFLOW_RECORD_HISTORIES") != "1":
        return
    history = await handle.fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    (HISTORIES / f"{name}.json").write_text(json.dumps(json.loads(history.to_json()), indent=1))


def paris(moment: datetime) -> datetime:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Europe/Paris"))
