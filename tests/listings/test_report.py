"""The inspection report: the PDF (WeasyPrint, text read back with pypdf) and the page say the same."""

from __future__ import annotations

import asyncio
import html
import io
import uuid
from datetime import UTC, date, datetime

import httpx
from listings_harness import INTAKE_BODY, ListingHarness, post_intake
from pypdf import PdfReader

from activities.reports import GRADES, ReportRenderer, report_context
from db.models import Inspection, InspectionCheckpoint, InspectionPhoto


def flat(text: str) -> str:
    return " ".join(text.split())


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return flat(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def sample_inspection(checkpoints: int = 5) -> Inspection:
    inspection = Inspection(
        id=uuid.uuid4(),
        reference="EX0000000042",
        vehicle_make="Renault",
        vehicle_model="Clio",
        vehicle_version="IV 0.9 TCe 90",
        vehicle_registration="GH-789-JK",
        vehicle_vin="VF15RB20A12345678",
        vehicle_first_registration=date(2017, 6, 15),
        vehicle_mileage_km=123456,
        vehicle_fuel="Essence",
        inspected_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
        inspection_place="Nantes",
        inspector_name="Jeanne Expert",
        summary="Bon état général.\nDistribution à prévoir avant 130 000 km.",
    )
    grades = list(GRADES)
    inspection.checkpoints = [
        InspectionCheckpoint(
            position=i,
            section=("Carrosserie", "Mécanique", "Intérieur")[i % 3],
            label=f"Point numéro {i}",
            grade=grades[i % 4],
            comment=f"Commentaire détaillé {i}" if i % 2 == 0 else None,
        )
        for i in range(1, checkpoints + 1)
    ]
    inspection.photos = [
        InspectionPhoto(position=1, url="https://photos.example.com/a.jpg", caption="Profil")
    ]
    return inspection


def test_pdf_contains_the_vehicle_date_summary_and_every_checkpoint() -> None:
    inspection = sample_inspection(checkpoints=40)  # several pages
    context = report_context(inspection)
    text = pdf_text(ReportRenderer().pdf(context))
    for expected in (
        "Renault",
        "Clio",
        "GH-789-JK",
        "VF15RB20A12345678",
        "123 456 km",
        "15/06/2017",
        "20/11/2026",
    ):
        assert expected in text, expected
    assert "Distribution à prévoir avant 130 000 km." in text
    for checkpoint in inspection.checkpoints:
        assert checkpoint.label in text, checkpoint.label
        if checkpoint.comment:
            assert checkpoint.comment in text
    for label in GRADES.values():
        assert label in text
    # The owner's identity is not in a report made to be shared.
    assert "EX0000000042" in text


def test_the_report_page_says_what_the_pdf_says() -> None:
    inspection = sample_inspection()
    renderer = ReportRenderer()
    context = report_context(inspection)
    page = flat(html.unescape(renderer.html(context, page=True, pdf_url="/r/x/rapport.pdf")))
    text = pdf_text(renderer.pdf(context))
    for expected in [
        "Renault",
        "Clio",
        "GH-789-JK",
        "20/11/2026",
        "Bon état général.",
        *(c.label for c in inspection.checkpoints),
        *(c.comment for c in inspection.checkpoints if c.comment),
    ]:
        assert expected in page and expected in text, expected
    assert 'name="viewport"' in renderer.html(context, page=True)  # readable on a phone
    assert "Télécharger le rapport (PDF)" in page


async def test_intake_report_pdf_is_made_by_the_workflow_and_served_by_token(
    client: httpx.AsyncClient, inspector: dict, listings: ListingHarness
) -> None:
    created = await post_intake(client, inspector)
    async with listings.session_factory() as session:
        for _ in range(200):
            row = await session.get(Inspection, uuid.UUID(created["inspection_id"]), populate_existing=True)
            if row is not None and row.report_pdf_sha256:
                break
            await asyncio.sleep(0.05)
        assert row is not None and row.report_pdf_sha256
    token = created["report_url"].rsplit("/r/", 1)[1]
    response = await client.get(f"/r/{token}/rapport.pdf")
    assert response.status_code == 200
    text = pdf_text(response.content)
    vehicle = INTAKE_BODY["vehicle"]
    for expected in (vehicle["make"], vehicle["model"], "AB-123-CD", vehicle["vin"], "20/11/2026"):
        assert expected in text, expected
    for checkpoint in INTAKE_BODY["report"]["checkpoints"]:
        assert checkpoint["label"] in text
        assert GRADES[checkpoint["grade"]] in text
        if checkpoint.get("comment"):
            assert checkpoint["comment"] in text
