"""Contract documents as PDF (WeasyPrint + Jinja2, in the worker only); db/documents.py
stores them by content hash.

* the proposal/contract PDF, with every contract datum, that the buyer reviews: rendered
  once when signing starts, and never again; written with pydyf (activities/contract_page.py),
  WeasyPrint only when that cannot show its text or it needs more than one page;
* the general conditions ("conditions générales") of each product kind, rendered once per
  kind and version (`conditions_version`) and shared by every proposal of that kind;
* the signed contract: the reviewed PDF's own pages, untouched, plus an audit page
  appended with pypdf (timestamps in Europe/Paris, how the signer was identified, and the
  SHA-256 of those exact reviewed bytes); that page is written with pydyf
  (activities/audit_page.py), WeasyPrint only when that cannot show its text.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from activities import audit_page, contract_page
from activities.document_templates import (
    KINDS,
    PDF_TEMPLATES,
    conditions_template,
    paris_time,
    pdf_environment,
)

__all__ = ["KINDS", "PDF_TEMPLATES", "DocumentRenderer", "SignatureAudit", "append_pages", "paris_time"]


@dataclass(frozen=True)
class SignatureAudit:
    """What proves a simple electronic signature (DESIGN §6)."""

    signer_name: str  # the full name the buyer typed
    signed_at: datetime
    reviewed_at: datetime | None
    ip: str
    user_agent: str
    document_sha256: str  # of the contract PDF the buyer reviewed
    method: str = "Signature électronique simple (nom saisi par le signataire)"
    # How the signer was identified, as the audit page states it (activities/signing.py).
    identification: str = ""
    # local | sms_code | docusign: whose IP and browser the audit records.
    method_key: str = "local"


def append_pages(document: bytes, extra: bytes) -> bytes:
    """`document` with the pages of `extra` after its own; its pages are copied, not re-laid out."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(document)))
    writer.append(PdfReader(io.BytesIO(extra)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


class DocumentRenderer:
    def __init__(self, directory: Path = PDF_TEMPLATES) -> None:
        self.directory = directory
        self.env = pdf_environment(directory)

    def _pdf(self, template: str, context: dict[str, Any]) -> bytes:
        # Imported here: WeasyPrint loads Pango at import, which the API, the CLI and the
        # workflow sandbox never need.
        from weasyprint import HTML

        html = self.env.get_template(template).render(context)
        return HTML(string=html, base_url=str(self.directory)).write_pdf()

    def contract(self, contract: dict[str, Any]) -> bytes:
        # Written directly, about a millisecond instead of 300 of CPU on the buyer's "accept";
        # the template still lays out what the standard fonts cannot show or one page cannot hold.
        return contract_page.render(contract) or self._pdf("contract.html", {"c": contract})

    def audit_page(self, contract: dict[str, Any], audit: SignatureAudit) -> bytes:
        # Written directly, a few ms instead of about 70 of CPU per signature; the template
        # still lays out what the standard PDF fonts cannot show (a Cyrillic name, an emoji).
        return audit_page.render(contract, audit) or self._pdf("audit.html", {"c": contract, "audit": audit})

    def signed_contract(self, reviewed: bytes, contract: dict[str, Any], audit: SignatureAudit) -> bytes:
        """The reviewed PDF, byte for byte in its pages, then the audit page."""
        return append_pages(reviewed, self.audit_page(contract, audit))

    def general_conditions(self, kind: str) -> bytes:
        return self._pdf(conditions_template(kind), {})

    # Off the event loop: a contract or audit page that falls back to WeasyPrint, and the
    # general conditions, take a few hundred ms of CPU; the worker keeps serving meanwhile.
    async def contract_async(self, contract: dict[str, Any]) -> bytes:
        return await asyncio.to_thread(self.contract, contract)

    async def signed_contract_async(
        self, reviewed: bytes, contract: dict[str, Any], audit: SignatureAudit
    ) -> bytes:
        return await asyncio.to_thread(self.signed_contract, reviewed, contract, audit)

    async def general_conditions_async(self, kind: str) -> bytes:
        return await asyncio.to_thread(self.general_conditions, kind)
