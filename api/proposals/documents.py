"""A proposal's PDFs as stored: the contract to review, the signed contract, the general
conditions. Shared by the dealer API's document route and the dealer app's downloads."""

from __future__ import annotations

from activities.document_templates import conditions_name
from api.errors import ApiError
from api.lifecycle_client import ActionPending
from carflow.settings import Settings
from db.documents import DocumentStore
from db.models import Proposal
from workflows.proposal_contract import PROPOSAL

DOCUMENT_NAMES = ("contract", "signed", "conditions")


def proposal_pdf(row: Proposal, name: str, settings: Settings, path: str) -> tuple[bytes, str]:
    """(content, filename) of the proposal's document `name`; ApiError 404 when there is none,
    ActionPending while the worker still makes the kind's conditions."""
    store = DocumentStore(settings.documents_dir)
    digest = {
        "contract": row.contract_pdf_sha256,
        "signed": row.signed_pdf_sha256,
        "conditions": row.conditions_pdf_sha256,
    }.get(name)
    if name == "conditions" and digest is None:
        # The kind's current conditions, made once by the worker (the API renders no PDF).
        digest = store.name(conditions_name(row.product_kind))
        if digest is None:
            raise ActionPending(PROPOSAL.name, row.id, "prepare_signing", accepted=True, update_id=None).at(
                path
            )
    content = store.get(digest) if digest else None
    if content is None:
        raise ApiError(404, "not_found", f"No {name} document for this proposal (yet).")
    filename = {
        "contract": f"contrat-{row.contract_number}.pdf",
        "signed": f"contrat-{row.contract_number}-signe.pdf",
    }.get(name, f"conditions-{row.product_kind}.pdf")
    return content, filename
