"""Listing test helpers: an intake body, a harness that runs intakes and drives workflows."""

from __future__ import annotations

import copy
import json
import os
import re
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from api.inspections.schemas import InspectionCreate
from api.inspections.service import Intake, create_inspection
from api.lifecycle_client import listing_workflows
from carflow.settings import Settings
from db.models import Listing
from support import Sink
from workflows.listing_contract import (
    QUERY_STATUS,
    EventRequest,
    ListingStatus,
    SurveyAnswers,
    listing_id_from_workflow_id,
    listing_workflow_id,
)

HISTORIES = Path(__file__).parent / "workflows" / "histories"

INTAKE_BODY: dict[str, Any] = {
    "owner": {"email": "marie.curie@example.com", "first_name": "Marie", "last_name": "Curie"},
    "vehicle": {
        "make": "Peugeot",
        "model": "308",
        "version": "1.2 PureTech 130 Allure",
        "registration": "ab-123-cd",
        "vin": "VF3LCYHZPHS123456",
        "first_registration": "2019-03-01",
        "mileage_km": 84250,
        "fuel": "Essence",
        "gearbox": "Manuelle",
        "color": "Gris Artense",
    },
    "report": {
        "inspected_at": "2026-11-20T10:30:00+01:00",
        "place": "Lyon",
        "summary": "Véhicule sain, entretien suivi. Pneus avant à remplacer prochainement.",
        "checkpoints": [
            {
                "section": "Carrosserie",
                "label": "Pare-chocs avant",
                "grade": "fair",
                "comment": "Rayure légère",
            },
            {"section": "Carrosserie", "label": "Portières", "grade": "good"},
            {"section": "Mécanique", "label": "Embrayage", "grade": "good", "comment": "Aucun patinage"},
            {"section": "Pneumatiques", "label": "Pneus avant", "grade": "poor", "comment": "Usure 80 %"},
            {"section": "Électronique", "label": "Climatisation", "grade": "not_checked"},
        ],
        "photos": [{"url": "https://photos.example.com/308-front.jpg", "caption": "Face avant"}],
    },
    "listing": {"price_cents": 1_290_000, "negotiable": True, "location": "Lyon 3e"},
}

GOOD_SURVEY = ["excellent", "very_good", "satisfactory", "very_good"]


def intake_body(**changes: Any) -> dict[str, Any]:
    """A valid intake body; `intake_body(owner={...})` replaces a whole section."""
    body = copy.deepcopy(INTAKE_BODY)
    body.update(changes)
    return body


class ListingHarness:
    """Runs intakes as the API does and drives the resulting workflows directly."""

    def __init__(
        self, settings: Settings, session_factory: async_sessionmaker[AsyncSession], env: WorkflowEnvironment
    ) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.env = env
        self.client: Client = env.client
        self.workflows = listing_workflows(env.client, settings)

    async def intake(self, body: dict[str, Any] | None = None) -> Intake:
        model = InspectionCreate.model_validate(body or intake_body())
        async with self.session_factory() as session:
            return await create_inspection(
                session, self.settings, self.workflows, model, inspector_id=None, inspector_name="Jean Expert"
            )

    async def create(self, body: dict[str, Any] | None = None) -> WorkflowHandle:
        intake = await self.intake(body)
        return self.client.get_workflow_handle(
            listing_workflow_id(intake.listing.id), result_type=ListingStatus
        )

    async def row(self, handle: WorkflowHandle) -> Listing:
        async with self.session_factory() as session:
            row = await session.get(Listing, uuid.UUID(listing_id_from_workflow_id(handle.id)))
            assert row is not None
            return row


async def fire(handle: WorkflowHandle, event: str, argument: Any = None) -> ListingStatus:
    return await handle.execute_update(
        event, argument if argument is not None else EventRequest(), result_type=ListingStatus
    )


async def survey(handle: WorkflowHandle, *, publish: bool) -> ListingStatus:
    request = EventRequest(
        survey=SurveyAnswers(answers=list(GOOD_SURVEY), publish=publish, cgu_accepted=True)
    )
    return await fire(handle, "complete_survey", request)


async def status(handle: WorkflowHandle) -> ListingStatus:
    return await handle.query(QUERY_STATUS, result_type=ListingStatus)


async def record_history(handle: WorkflowHandle, name: str) -> None:
    """Keep this run's history for the replay test (when CARFLOW_RECORD_HISTORIES=1)."""
    if os.environ.get("CARFLOW_RECORD_HISTORIES") != "1":
        return
    history = await handle.fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    (HISTORIES / f"{name}.json").write_text(json.dumps(json.loads(history.to_json()), indent=1))


async def wait_for_mail(sink: Sink, count: int = 1, timeout: float = 10.0) -> list:
    """The sink's messages once at least `count` arrived (mail is sent by the worker, async)."""
    import asyncio

    for _ in range(int(timeout / 0.05)):
        messages = sink.messages()
        if len(messages) >= count:
            return messages
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} mails, got {len(sink.messages())}: {sink.subjects()}")


def mail_text(message: Any) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def password_from(message: Any) -> str:
    match = re.search(r"Mot de passe : (\S+)", mail_text(message))
    assert match, mail_text(message)
    return match.group(1)


# --- HTTP helpers ---------------------------------------------------------------------------


async def inspector_headers(
    session_factory: async_sessionmaker[AsyncSession], name: str = "Jean Expert"
) -> dict:
    from db.accounts import create_inspector

    async with session_factory() as session:
        created = await create_inspector(session, name)
        await session.commit()
    return {"Authorization": f"Bearer {created.token}"}


async def post_intake(http: Any, headers: dict, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await http.post("/api/v1/inspections", json=body or intake_body(), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def credentials_for(sink: Sink, email: str) -> str:
    """The password mailed to `email` (waits for the worker to send it)."""
    import asyncio

    for _ in range(200):
        for message in sink.messages():
            if message["To"] == email and "mot de passe" in str(message["Subject"]):
                return password_from(message)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no credentials mail for {email}: {sink.subjects()}")


async def api_login(http: Any, email: str, password: str) -> Any:
    return await http.post("/api/v1/owner/login", json={"email": email, "password": password})


async def intake_and_login(
    http: Any, inspector: dict, sink: Sink, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An intake through the API, then its owner logged in on `http` with the mailed password."""
    created = await post_intake(http, inspector, body)
    email = (body or INTAKE_BODY)["owner"]["email"]
    password = await credentials_for(sink, email)
    response = await api_login(http, email, password)
    assert response.status_code == 200, response.text
    return {**created, "password": password, "csrf": response.json()["csrf_token"]}


SURVEY_BODY = {"answers": list(GOOD_SURVEY), "publish": True, "cgu_accepted": True}


def csrf_of(html: str) -> str:
    """The CSRF token of the (first) form in a page."""
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


async def login_page(http: Any, email: str, password: str) -> Any:
    """Log in through the /espace/connexion form, as a browser does."""
    form = await http.get("/espace/connexion")
    return await http.post(
        "/espace/connexion", data={"csrf": csrf_of(form.text), "email": email, "password": password}
    )


async def submit_survey(client: Any, listing_id: str, **data: str) -> Any:
    """Fill the /espace survey form (with its CSRF token), as a browser does."""
    page = await client.get(f"/espace/annonces/{listing_id}/questionnaire")
    return await client.post(
        f"/espace/annonces/{listing_id}/questionnaire", data={"csrf": csrf_of(page.text), **data}
    )
