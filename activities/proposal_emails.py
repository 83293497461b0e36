"""What each proposal email says and to whom, read from the database at sending time.

Reading at sending time means a corrected buyer address is used by the next (re)send, and
workflow history holds no names or addresses.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.exceptions import ApplicationError

from activities.email_types import EmailInput
from carflow.links import buyer_token
from carflow.settings import Settings
from db.models import Dealer, Proposal
from workflows.proposal_contract import ProposalEmail

PARIS = ZoneInfo("Europe/Paris")
TEMPLATES = {"proposal_sent", "proposal_expired", "withdrawal_confirmed"}


def french_date(moment: datetime | None) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y") if moment else ""


def french_datetime(moment: datetime | None) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M") if moment else ""


def euros(cents: int) -> str:
    whole, rest = divmod(cents, 100)
    return f"{whole:,}".replace(",", "\u202f") + f",{rest:02d} €"


async def load_proposal_email(
    session: AsyncSession, settings: Settings, data: ProposalEmail
) -> EmailInput | None:
    if data.template not in TEMPLATES:
        raise ApplicationError(
            f"unknown proposal email {data.template!r}", non_retryable=True, type="BadEmail"
        )
    proposal = await session.get(Proposal, uuid.UUID(data.proposal_id))
    if proposal is None:
        raise ApplicationError(
            f"proposal {data.proposal_id} is not in the database", non_retryable=True, type="NoSuchProposal"
        )
    dealer = await session.get(Dealer, proposal.dealer_id)
    assert dealer is not None  # foreign key
    context: dict[str, Any] = {
        "buyer_name": f"{proposal.buyer_first_name} {proposal.buyer_last_name}",
        "dealer": {
            "name": dealer.name,
            "email": dealer.email,
            "phone": dealer.phone,
            "address": dealer.address,
        },
        "seller": {
            "name": proposal.seller_name,
            "email": proposal.seller_email,
            "phone": proposal.seller_phone,
        },
        "product_label": proposal.product_label,
        "price": euros(proposal.price_cents),
        "vehicle": f"{proposal.vehicle_make} {proposal.vehicle_model} ({proposal.vehicle_registration})",
        "contract_number": proposal.contract_number,
        "token": buyer_token(settings, proposal.id),
        "valid_until": french_date(proposal.expires_at),
        "expired_on": french_date(proposal.expires_at),
        "signed_on": french_date(proposal.signed_at),
        "withdrawn_on": french_datetime(proposal.updated_at),
    }
    if data.recipient == "dealer":
        if not dealer.email:
            return None
        to, reply_to = [dealer.email], None
    else:
        to, reply_to = [proposal.buyer_email], dealer.email or proposal.seller_email
    return EmailInput(
        idempotency_key=data.idempotency_key,
        template=data.template,
        to=to,
        context=context,
        reply_to=reply_to,
    )
