"""Contract documents as PDF (WeasyPrint + Jinja2); db/documents.py stores them by content hash.

* the proposal/contract PDF, with every contract datum, that the buyer reviews;
* the general conditions ("conditions générales") of each product kind;
* the signed contract: the same contract plus an audit page (timestamps in Europe/Paris,
  IP, user agent, and the SHA-256 of the exact PDF the buyer reviewed).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from carflow.formatting import PARIS

PDF_TEMPLATES = Path(__file__).parent / "templates" / "pdf"
KINDS = ("service", "insurance")


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


def paris_time(moment: datetime | None) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y %H:%M:%S (heure de Paris)") if moment else "—"


def pdf_environment(directory: Path = PDF_TEMPLATES) -> Environment:
    """The Jinja2 environment of the PDF templates (contracts, reports): HTML is escaped and a
    missing variable is an error, never a blank in a legal document."""
    return Environment(
        loader=FileSystemLoader(directory),
        autoescape=select_autoescape(enabled_extensions=("html",)),
        undefined=StrictUndefined,
    )


class DocumentRenderer:
    def __init__(self, directory: Path = PDF_TEMPLATES) -> None:
        self.env = pdf_environment(directory)
        self.env.filters["paris_time"] = paris_time

    def _pdf(self, template: str, context: dict[str, Any]) -> bytes:
        # Imported here: WeasyPrint loads Pango at import, which the API's other routes,
        # the CLI and the workflow sandbox never need.
        from weasyprint import HTML

        html = self.env.get_template(template).render(context)
        return HTML(string=html, base_url=str(PDF_TEMPLATES)).write_pdf()

    def contract(self, contract: dict[str, Any]) -> bytes:
        return self._pdf("contract.html", {"c": contract, "audit": None})

    def signed_contract(self, contract: dict[str, Any], audit: SignatureAudit) -> bytes:
        return self._pdf("contract.html", {"c": contract, "audit": audit})

    def general_conditions(self, kind: str) -> bytes:
        if kind not in KINDS:
            raise ValueError(f"unknown product kind {kind!r}")
        return self._pdf(f"conditions_{kind}.html", {})

    # Rendering takes about a second of CPU: off the event loop, so the API and the worker
    # keep serving everyone else meanwhile.
    async def contract_async(self, contract: dict[str, Any]) -> bytes:
        return await asyncio.to_thread(self.contract, contract)

    async def signed_contract_async(self, contract: dict[str, Any], audit: SignatureAudit) -> bytes:
        return await asyncio.to_thread(self.signed_contract, contract, audit)

    async def general_conditions_async(self, kind: str) -> bytes:
        return await asyncio.to_thread(self.general_conditions, kind)
