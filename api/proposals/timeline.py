"""A proposal's timeline as the dealer's "Consulter" page shows it, from the read model only:
the proposal's columns, its timeline entries (written by the records activity), its emails
(the outbox) and what ADV did on it (audit entries). Never a workflow query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AdvAuditEntry, OutboxEmail, Proposal, ProposalTimelineEntry
from workflows.proposal_contract import proposal_workflow_id

# What each step is called on the page.
STEP_LABELS = {
    "created": "Proposition créée",
    "sent": "Envoyée par email à l'acheteur",
    "resent": "Renvoyée par email à l'acheteur",
    "viewed": "Consultée par l'acheteur",
    "signing": "Signature commencée (conditions générales acceptées, RIB saisi)",
    "abandoned": "Signature interrompue",
    "signed": "Contrat signé : contrat actif",
    "withdrawn": "Rétractation de l'acheteur",
    "expired": "Proposition expirée (délai de 30 jours dépassé)",
    "declined": "Refusée par l'acheteur (sinistre déclaré ou refus)",
    "cancelled": "Proposition annulée",
    "binding": "Délai de rétractation terminé",
    "replaces": "Remplace une proposition précédente",
    "replaced": "Remplacée par une nouvelle proposition",
    "adv": "Intervention du service ADV",
}
EMAIL_LABELS = {
    "proposal_sent": "Email de la proposition commerciale",
    "proposal_reminder": "Email de relance",
    "proposal_expired": "Email d'expiration",
    "withdrawal_confirmed": "Email de confirmation de rétractation",
    "contract_signed": "Email du contrat signé et des conditions générales",
    "welcome": "Email de bienvenue",
    "dealer_sale_notice": "Email d'avis de vente au centre",
    "signing_code": "SMS du code de signature",
}
DELIVERY_LABELS = {"sent": "remis", "pending": "en attente d'envoi", "failed": "échec d'envoi"}


@dataclass(frozen=True)
class Step:
    at: datetime
    kind: str  # a STEP_LABELS key, or "email"
    label: str
    detail: str = ""
    delivery: str | None = None  # emails: sent | pending | failed
    problem: bool = False  # an email that failed: the dealer tells ADV


def _key_range(row: Proposal) -> tuple[str, str]:
    """Every outbox key of this proposal starts with its workflow id and ':' (workflows'
    effect keys): a range on the unique index, on both databases."""
    prefix = f"{proposal_workflow_id(str(row.id))}:"
    return prefix, prefix[:-1] + ";"  # ';' sorts right after ':'


async def proposal_timeline(session: AsyncSession, row: Proposal) -> list[Step]:
    steps = [Step(row.created_at, "created", STEP_LABELS["created"])]
    entries = (
        await session.scalars(
            select(ProposalTimelineEntry).where(ProposalTimelineEntry.proposal_id == row.id)
        )
    ).all()
    recorded = {entry.event for entry in entries}
    for entry in entries:
        detail = f"{entry.detail}e consultation" if entry.event == "viewed" and entry.detail != "1" else ""
        if entry.event == "viewed" and entry.detail == "1":
            detail = "1re consultation"
        steps.append(Step(entry.at, entry.event, STEP_LABELS.get(entry.event, entry.event), detail))
    # Proposals older than the timeline table: what the columns still say.
    legacy = [
        ("sent", row.first_sent_at, ""),
        ("viewed", row.first_viewed_at, "1re consultation"),
        ("signed", row.signed_at, ""),
    ]
    for event, at, detail in legacy:
        if at is not None and event not in recorded:
            steps.append(Step(at, event, STEP_LABELS[event], detail))
    if row.replaces_id is not None:
        old = await session.get(Proposal, row.replaces_id)
        if old is not None:
            steps.append(Step(row.created_at, "replaces", STEP_LABELS["replaces"], old.contract_number))
    newer = await session.scalar(
        select(Proposal).where(Proposal.replaces_id == row.id, Proposal.dealer_id == row.dealer_id)
    )
    if newer is not None:
        steps.append(Step(newer.created_at, "replaced", STEP_LABELS["replaced"], newer.contract_number))

    low, high = _key_range(row)
    emails = (
        await session.scalars(
            select(OutboxEmail).where(OutboxEmail.idempotency_key >= low, OutboxEmail.idempotency_key < high)
        )
    ).all()
    for email in emails:
        failed = email.status != "sent" and (email.attempts > 0 or email.last_error is not None)
        delivery = "sent" if email.status == "sent" else ("failed" if failed else "pending")
        to = "" if email.template == "signing_code" else f"à {email.recipients}"
        steps.append(
            Step(
                email.sent_at or email.created_at,
                "email",
                EMAIL_LABELS.get(email.template, email.subject),
                to,
                delivery=delivery,
                problem=delivery == "failed",
            )
        )
    audits = (
        await session.scalars(
            select(AdvAuditEntry).where(
                AdvAuditEntry.kind == "proposal", AdvAuditEntry.target_id == str(row.id)
            )
        )
    ).all()
    for audit in audits:
        steps.append(Step(audit.at, "adv", STEP_LABELS["adv"], f"{audit.action} : {audit.result}"))
    return sorted(steps, key=lambda step: step.at)
