"""The shareable inspection report: `/r/{report_token}` (page) and `/r/{report_token}/rapport.pdf`.

Reachable only by its unguessable token (256 bits, derived with the secret key), whether
the listing is published or private: the owner decides whom to give it to. The page and
the PDF come from one template (activities/templates/pdf/report.html).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from activities.reports import ReportRenderer, load_inspection, report_context
from api.deps import SessionDep
from api.listings.owner_service import report_pdf
from api.templating import templates
from carflow.tokens import hash_token
from db.models import Inspection

router = APIRouter(prefix="/r", include_in_schema=False)

# The token is in the URL: keep it out of Referer headers and search engines.
PRIVATE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "Cache-Control": "private, no-store",
}


async def _inspection_id(session: SessionDep, token: str):  # noqa: ANN202
    if not 20 <= len(token) <= 100:
        return None
    return await session.scalar(
        select(Inspection.id).where(Inspection.report_token_hash == hash_token(token))
    )


def _not_found(request: Request) -> Response:
    response = templates.TemplateResponse(
        request, "rapport/not_found.html", {"owner": None, "csrf": ""}, status_code=404
    )
    response.headers.update(PRIVATE_HEADERS)
    return response


@router.get("/{token}", response_class=HTMLResponse)
async def report_page(token: str, request: Request, session: SessionDep) -> Response:
    inspection_id = await _inspection_id(session, token)
    inspection = await load_inspection(session, inspection_id) if inspection_id else None
    if inspection is None:
        return _not_found(request)
    html = ReportRenderer().html(report_context(inspection), page=True, pdf_url=f"/r/{token}/rapport.pdf")
    return HTMLResponse(html, headers=PRIVATE_HEADERS)


@router.get("/{token}/rapport.pdf")
async def report_file(token: str, request: Request, session: SessionDep) -> Response:
    inspection_id = await _inspection_id(session, token)
    if inspection_id is None:
        return _not_found(request)
    settings = request.app.state.settings
    pdf, inspection = await report_pdf(session, settings, inspection_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            **PRIVATE_HEADERS,
            "Content-Disposition": f'inline; filename="rapport-expertise-{inspection.reference}.pdf"',
        },
    )
