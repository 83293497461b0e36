"""The bare baseline's one activity: render a French email (and, once signed, its PDFs) and send it.

The same email templates as Carflow (activities/templates/email) and the same PDF templates
(activities/templates/pdf), read directly, so the baseline keeps working whatever Carflow's
own activities become. Missing template variables render empty here (a benchmark, not a
legal document).

By default (`BARE_PDFS=carflow`) the PDFs are made with Carflow's own renderer
(activities/documents.py: the contract page and audit page written directly, the general
conditions once per kind): the same activities, so the difference measured is the engine's.
`bench.lifecycle --bare-pdfs templates` renders them with WeasyPrint from the templates at
every signature instead, as a plain app that never made its PDFs cheap would.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

import aiosmtplib
from jinja2 import Environment, FileSystemLoader, select_autoescape
from temporalio import activity

from bench.bare.workflow import ACTIVITY_EMAIL, BareEmail

TEMPLATES = Path(__file__).resolve().parents[2] / "activities" / "templates"


def _environment(directory: Path) -> Environment:
    return Environment(
        loader=FileSystemLoader(directory),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    )


def email_context(contract: dict[str, Any], public_url: str, token: str) -> dict[str, Any]:
    """What the email templates show, from the contract's data (as Carflow's emails)."""
    vehicle = contract["vehicle"]
    return {
        "buyer_name": f"{contract['buyer']['first_name']} {contract['buyer']['last_name']}",
        "dealer": contract["dealer"],
        "seller": contract["seller"],
        "product_label": contract["product_label"],
        # The product as a phrase in a sentence (Carflow's subjects read "vous propose un …").
        "product": {"a": "un", "phrase": f"contrat « {contract['product_label']} »", "active": "actif"},
        "price": contract["price"],
        "vehicle": f"{vehicle['make']} {vehicle['model']} ({vehicle['registration']})",
        "contract_number": contract["contract_number"],
        "duration_months": contract["duration_months"],
        "valid_until": contract.get("valid_until", ""),
        "signed_on": contract.get("signed_on", ""),
        "withdrawal_until": contract.get("withdrawal_until", ""),
        "public_url": public_url,
        "token": token,
    }


class BareMailer:
    def __init__(self, smtp_host: str, smtp_port: int, public_url: str) -> None:
        self.smtp_host, self.smtp_port, self.public_url = smtp_host, smtp_port, public_url
        self.email = _environment(TEMPLATES / "email")
        self.pdf = _environment(TEMPLATES / "pdf")
        self.pdf.filters["paris_time"] = lambda moment: str(moment or "—")
        self.renderer: Any = None  # Carflow's, as its worker holds one (BARE_PDFS=carflow)
        if os.environ.get("BARE_PDFS", "carflow") == "carflow":
            from activities.documents import DocumentRenderer

            self.renderer = DocumentRenderer()
        self.conditions: dict[str, bytes] = {}

    @classmethod
    def from_env(cls) -> BareMailer:
        return cls(
            os.environ.get("BARE_SMTP_HOST", "127.0.0.1"),
            int(os.environ["BARE_SMTP_PORT"]),
            os.environ["BARE_PUBLIC_URL"],
        )

    def _render_pdf(self, template: str, context: dict[str, Any]) -> bytes:
        from weasyprint import HTML

        html = self.pdf.get_template(template).render(context)
        return bytes(HTML(string=html, base_url=str(TEMPLATES / "pdf")).write_pdf())

    def documents(self, data: BareEmail) -> list[tuple[str, bytes]]:
        """The signed contract (with its audit page) and the general conditions."""
        contract = data.contract
        audit = {
            "signer_name": data.signer_name,
            "signed_at": data.signed_at,
            "reviewed_at": None,
            "ip": "—",
            "user_agent": "bench",
            "document_sha256": hashlib.sha256(repr(sorted(contract.items())).encode()).hexdigest(),
            "method": "Signature électronique simple (nom saisi par le signataire)",
        }
        kind = contract.get("kind", "service")
        if self.renderer is not None:
            signed, conditions = self._carflow_documents(data, audit, kind)
        else:
            signed = self._render_pdf("contract.html", {"c": contract, "audit": audit})
            conditions = self._render_pdf(f"conditions_{kind}.html", {})
        number = contract.get("contract_number", data.proposal_id)
        return [(f"contrat-{number}-signe.pdf", signed), (f"conditions-generales-{number}.pdf", conditions)]

    def _carflow_documents(self, data: BareEmail, audit: dict[str, Any], kind: str) -> tuple[bytes, bytes]:
        from datetime import UTC, datetime

        from activities.documents import SignatureAudit

        renderer = self.renderer
        contract = {**data.contract, "in_person": False}
        reviewed = renderer.contract(contract)
        now = datetime.now(UTC)
        signed = renderer.signed_contract(
            reviewed,
            contract,
            SignatureAudit(
                signer_name=data.signer_name or "—",
                signed_at=now,
                reviewed_at=now,
                ip="—",
                user_agent="bench",
                document_sha256=hashlib.sha256(reviewed).hexdigest(),
                method=audit["method"],
            ),
        )
        if kind not in self.conditions:
            self.conditions[kind] = renderer.general_conditions(kind)
        return signed, self.conditions[kind]

    def message(self, data: BareEmail) -> EmailMessage | None:
        contract = data.contract
        to = contract["dealer"]["email"] if data.recipient == "dealer" else contract["buyer"]["email"]
        if not to:
            return None  # as Carflow: a dealer without a contact email gets no notice
        context = email_context(contract, self.public_url, data.proposal_id)
        subject = self.email.get_template(f"{data.template}.subject.txt").render(context)
        message = EmailMessage()
        message["From"] = "Carflow bench <bench@carflow.localhost>"
        message["To"] = to
        message["Subject"] = " ".join(subject.split())
        message["Date"] = formatdate(localtime=False)
        message.set_content(self.email.get_template(f"{data.template}.txt").render(context))
        message.add_alternative(
            self.email.get_template(f"{data.template}.html").render(context), subtype="html"
        )
        if data.template == "contract_signed":
            for filename, content in self.documents(data):
                message.add_attachment(content, maintype="application", subtype="pdf", filename=filename)
        return message

    @activity.defn(name=ACTIVITY_EMAIL)
    async def send_email(self, data: BareEmail) -> bool:
        # Rendering (PDFs above all) is CPU work: off the event loop, like Carflow's.
        message = await asyncio.to_thread(self.message, data)
        if message is None:
            return False
        await aiosmtplib.send(message, hostname=self.smtp_host, port=self.smtp_port, timeout=30)
        return True
