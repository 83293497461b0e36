"""The inspection report: one Jinja2 template, rendered as a web page (/r/{token}) and as a PDF.

Both come from `templates/pdf/report.html` with the same context, so the page and the PDF
always say the same thing: vehicle identity, inspection date, every checkpoint with its
grade and comment, the summary. The owner's name and contact details are not in the
report: it is made to be shared with prospective buyers.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from activities.document_templates import PDF_TEMPLATES, pdf_environment
from carflow.formatting import french_date, thousands, vehicle_title
from db.models import Inspection

# Checkpoint grades (API values) and how the report says them.
GRADES: dict[str, str] = {
    "good": "Bon état",
    "fair": "À surveiller",
    "poor": "À réparer",
    "not_checked": "Non contrôlé",
}


def report_context(inspection: Inspection) -> dict[str, Any]:
    """Everything the report shows; `inspection` must have checkpoints and photos loaded."""
    sections: list[dict[str, Any]] = []
    counts = dict.fromkeys(GRADES, 0)
    for checkpoint in inspection.checkpoints:
        name = checkpoint.section or "Points de contrôle"
        if not sections or sections[-1]["name"] != name:
            sections.append({"name": name, "checkpoints": []})
        sections[-1]["checkpoints"].append(
            {
                "label": checkpoint.label,
                "grade": checkpoint.grade,
                "grade_label": GRADES.get(checkpoint.grade, checkpoint.grade),
                "comment": checkpoint.comment or "",
            }
        )
        counts[checkpoint.grade] = counts.get(checkpoint.grade, 0) + 1
    return {
        "reference": inspection.reference,
        "title": vehicle_title(inspection),
        "vehicle": {
            "make": inspection.vehicle_make,
            "model": inspection.vehicle_model,
            "version": inspection.vehicle_version or "",
            "registration": inspection.vehicle_registration,
            "vin": inspection.vehicle_vin or "",
            "first_registration": inspection.vehicle_first_registration.strftime("%d/%m/%Y"),
            "mileage": f"{thousands(inspection.vehicle_mileage_km)} km",
            "fuel": inspection.vehicle_fuel or "",
            "gearbox": inspection.vehicle_gearbox or "",
            "color": inspection.vehicle_color or "",
        },
        "inspected_on": french_date(inspection.inspected_at),
        "place": inspection.inspection_place or "",
        "inspector_name": inspection.inspector_name,
        "summary": inspection.summary,
        "sections": sections,
        "counts": [(GRADES[g], n) for g, n in counts.items() if g in GRADES],
        "photos": [{"url": p.url, "caption": p.caption or ""} for p in inspection.photos],
    }


async def load_inspection(session: AsyncSession, inspection_id: uuid.UUID) -> Inspection | None:
    return await session.scalar(
        select(Inspection)
        .where(Inspection.id == inspection_id)
        .options(selectinload(Inspection.checkpoints), selectinload(Inspection.photos))
    )


class ReportRenderer:
    def __init__(self, directory: Path = PDF_TEMPLATES) -> None:
        self.env = pdf_environment(directory)

    def html(self, context: dict[str, Any], *, page: bool, pdf_url: str = "") -> str:
        """The report as HTML: `page=True` for browsers (phone-friendly), False for WeasyPrint."""
        return self.env.get_template("report.html").render(r=context, page=page, pdf_url=pdf_url)

    def pdf(self, context: dict[str, Any]) -> bytes:
        from weasyprint import HTML  # loads Pango: only where PDFs are made

        # Photos are links, not images: rendering never fetches anything from the network.
        return HTML(string=self.html(context, page=False), base_url=str(PDF_TEMPLATES)).write_pdf()

    async def pdf_async(self, context: dict[str, Any]) -> bytes:
        # About a second of CPU: off the event loop.
        return await asyncio.to_thread(self.pdf, context)
