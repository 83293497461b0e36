"""A proposal's documents as the worker makes them, each once, stored by digest.

* the general conditions: once per product kind and version, under a name
  (`conditions_name`), then reused by digest by every proposal of that kind;
* the reviewed contract: once when signing starts (the bank details are known then), the
  bytes the buyer reviews and signs;
* the signed contract: those bytes plus the audit page.
"""

from __future__ import annotations

from dataclasses import dataclass

from activities.contract_context import contract_context
from activities.document_templates import conditions_name
from activities.documents import DocumentRenderer, SignatureAudit
from db.documents import DocumentStore
from db.models import Dealer, Proposal


@dataclass
class ContractDocuments:
    renderer: DocumentRenderer
    store: DocumentStore

    async def general_conditions(self, kind: str) -> str:
        """The digest of the current general conditions of `kind`, rendered if this version
        never was."""
        name = conditions_name(kind)
        digest = self.store.name(name)
        if digest is None:
            digest = self.store.put_named(name, await self.renderer.general_conditions_async(kind))
        return digest

    async def reviewed_contract(self, proposal: Proposal, dealer: Dealer, *, in_person: bool) -> str:
        context = contract_context(proposal, dealer, in_person=in_person)
        return self.store.put(await self.renderer.contract_async(context))

    async def prepare(self, proposal: Proposal, dealer: Dealer, *, in_person: bool) -> bool:
        """Make what signing needs (row not committed); returns whether the row changed.
        Idempotent: the API clears the contract's digest when the bank details change."""
        changed = False
        if proposal.conditions_pdf_sha256 is None:
            proposal.conditions_pdf_sha256 = await self.general_conditions(proposal.product_kind)
            changed = True
        if proposal.contract_pdf_sha256 is None or self.store.get(proposal.contract_pdf_sha256) is None:
            proposal.contract_pdf_sha256 = await self.reviewed_contract(proposal, dealer, in_person=in_person)
            changed = True
        return changed

    async def signed_contract(
        self, proposal: Proposal, dealer: Dealer, audit: SignatureAudit, reviewed: bytes
    ) -> str:
        signed = await self.renderer.signed_contract_async(
            reviewed, contract_context(proposal, dealer), audit
        )
        return self.store.put(signed)
