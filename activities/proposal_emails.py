"""What each proposal email says and to whom, read from the database at sending time.

Reading at sending time means a corrected buyer address is used by the next (re)send, and
workflow history holds no names or addresses.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.exceptions import ApplicationError

from activities.contract_context import parties_context, product_context
from activities.database import proposal_and_dealer
from activities.email_types import Attachment, EmailInput
from carflow.formatting import euros, french_date, french_datetime
from carflow.links import buyer_token
from carflow.settings import Settings
from db.dealer_notices import notice_settings
from db.models import Dealer, Proposal
from workflows.proposal_contract import ProposalEmail

TEMPLATES = {
    "proposal_sent",
    "proposal_reminder",
    "proposal_expired",
    "withdrawal_confirmed",
    "contract_signed",
    "welcome",
    "dealer_sale_notice",
    # The dealer's notices queued by db/dealer_notices.py (issue 13).
    "dealer_first_view_notice",
    "dealer_withdrawal_notice",
    "dealer_expiring_notice",
}


async def load_proposal_email(
    session: AsyncSession, settings: Settings, data: ProposalEmail
) -> EmailInput | None:
    """The email `data` names, its proposal and dealer read first (`proposal_email`)."""
    proposal, dealer = await proposal_and_dealer(session, data.proposal_id)
    return await proposal_email(session, settings, data, proposal, dealer)


async def proposal_email(
    session: AsyncSession, settings: Settings, data: ProposalEmail, proposal: Proposal, dealer: Dealer
) -> EmailInput | None:
    """The email `data` names, for a proposal and dealer the caller has read; None when the
    dealer has nowhere to receive it (or does not want it)."""
    if data.template not in TEMPLATES:
        raise ApplicationError(
            f"unknown proposal email {data.template!r}", non_retryable=True, type="BadEmail"
        )
    context: dict[str, Any] = {
        **parties_context(proposal, dealer),
        "product_label": proposal.product_label,
        "product": product_context(proposal.product_label),
        "price": euros(proposal.price_cents, always_cents=True),
        "vehicle": f"{proposal.vehicle_make} {proposal.vehicle_model} ({proposal.vehicle_registration})",
        "contract_number": proposal.contract_number,
        "token": buyer_token(settings, proposal.id),
        "valid_until": french_date(proposal.expires_at),
        "expired_on": french_date(proposal.expires_at),
        "signed_on": french_date(proposal.signed_at),
        "withdrawn_on": french_datetime(proposal.updated_at),
        "withdrawal_until": french_date(proposal.withdrawal_deadline),
        "duration_months": proposal.duration_months,
        "first_viewed_on": french_datetime(proposal.first_viewed_at),
        "dealer_link": f"{settings.public_url}/vendeur/propositions/{proposal.id}",
    }
    attachments: list[Attachment] = []
    if data.template == "contract_signed":
        if not (proposal.signed_pdf_sha256 and proposal.conditions_pdf_sha256):
            raise ApplicationError(
                f"signed documents of proposal {data.proposal_id} are not ready", type="DocumentMissing"
            )
        attachments = [
            Attachment(f"contrat-{proposal.contract_number}-signe.pdf", proposal.signed_pdf_sha256),
            Attachment(f"conditions-generales-{proposal.product_kind}.pdf", proposal.conditions_pdf_sha256),
        ]
    if data.recipient == "dealer":
        # The centre's notification settings say where its mails go, and whether it wants
        # the signature's notice at all (issue 13).
        choices = await notice_settings(session, dealer)
        address = choices.address(dealer)
        if not address or (data.template == "dealer_sale_notice" and not choices.on_signed):
            return None
        to, reply_to = [address], None
    else:
        to, reply_to = [proposal.buyer_email], dealer.email or proposal.seller_email
    return EmailInput(
        idempotency_key=data.idempotency_key,
        template=data.template,
        to=to,
        context=context,
        reply_to=reply_to,
        attachments=attachments,
    )
