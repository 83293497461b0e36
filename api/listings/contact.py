"""The public contact form of a listing: rate-limited, honeypot, length limits; mails the owner.

Only published, unsold listings take messages. The message is stored, then handed to the
listing's workflow (`contact_owner` update), whose email activity mails the owner with the
sender as Reply-To; history holds the message's id, not its text or the sender's address.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import structlog
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import ApiError
from api.listings.schemas import ContactBody
from api.listings.views import NOT_FOUND_EN, public_row
from api.listings.workflow import ActionRefused, ListingWorkflows, WorkflowGone
from api.security import rate_limit
from db.models import ContactMessage
from statemachines.listing import accepts_contact
from workflows.listing_contract import UPDATE_CONTACT_OWNER, ContactRequest

log = structlog.get_logger(__name__)

CONTACT_CLOSED_EN = "This vehicle has been sold: the seller no longer takes messages."


async def send_contact(
    session: AsyncSession,
    workflows: ListingWorkflows | None,
    listing_id: uuid.UUID,
    body: ContactBody,
    *,
    ip: str,
    now: datetime,
) -> bool:
    """True when the message was passed on; False when the honeypot caught it (say "sent")."""
    row = await public_row(session, listing_id)
    if row is None:
        raise ApiError(404, "not_found", NOT_FOUND_EN)
    if not accepts_contact(row.listing.state):
        raise ApiError(409, "contact_closed", CONTACT_CLOSED_EN, state=row.listing.state)
    for limit, subject in (
        (rate_limit.CONTACT_PER_IP, ip),
        (rate_limit.CONTACT_PER_LISTING, str(listing_id)),
    ):
        verdict = await rate_limit.hit(session, limit, subject, now)
        if not verdict.allowed:
            raise ApiError(
                429,
                "too_many_requests",
                "Too many messages sent; please try again later.",
                headers={"Retry-After": str(verdict.retry_after_s)},
            )
    if body.website:
        log.info("contact_honeypot", listing_id=str(listing_id))
        return False
    if workflows is None:
        raise ApiError(503, "temporal_unavailable", "Temporal is not reachable; please retry in a moment.")
    message = ContactMessage(
        listing_id=listing_id, name=body.name, email=str(body.email), phone=body.phone, message=body.message
    )
    session.add(message)
    await session.commit()
    try:
        await workflows.fire(
            listing_id,
            UPDATE_CONTACT_OWNER,
            ContactRequest(message_id=str(message.id)),
            update_id=f"contact-{message.id}",
        )
    except (ActionRefused, WorkflowGone) as err:
        await session.execute(delete(ContactMessage).where(ContactMessage.id == message.id))
        await session.commit()
        state = err.details.get("state") if isinstance(err, ActionRefused) else "archived"
        raise ApiError(409, "contact_closed", CONTACT_CLOSED_EN, state=state) from None
    except Exception:
        await session.execute(delete(ContactMessage).where(ContactMessage.id == message.id))
        await session.commit()
        raise
    return True
