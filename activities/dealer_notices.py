"""The relay of the dealers' notices (issue 13): run by DealerNoticesWorkflow every minute.

Each round queues the "about to expire unsigned" notices that are due (a periodic query: the
proposal workflows stay as they are), then sends every queued notice through the email
activity's exactly-once path (`deliver_once`, the outbox row's key). A notice that fails is
tried again at the next round, up to `MAX_ATTEMPTS`; ADV sees it with the proposal's emails.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, and_, or_, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.database import DatabaseActivities
from activities.email import EmailActivities
from activities.proposal_emails import load_proposal_email
from db.dealer_notices import pending_notices, queue_notice
from db.models import Dealer, DealerNotice, DealerNotificationSettings, Proposal
from statemachines.proposal import ProposalMachine
from workflows.dealer_notices import ACTIVITY_RELAY, RelayInput, RelayResult
from workflows.proposal_contract import ProposalEmail

MAX_ATTEMPTS = 20
BATCH = 200


def unsigned_expiring_states() -> list[str]:
    """Where a proposal waits for its buyer and can still expire: the machine's `expire`
    sources, less the unsent devis (the buyer has nothing to sign yet)."""
    sources = {
        transition.source.id
        for state in ProposalMachine.states
        for transition in state.transitions
        if transition.match("expire")
    }
    return sorted(sources - {ProposalMachine.initial_state.id})


def expiring_query(now: datetime, within: timedelta) -> Select[Proposal, Dealer]:
    """Unsigned proposals whose validity ends within `within`, not noticed yet, of centres
    that want the notice (no settings row: they do); soonest first."""
    return (
        select(Proposal, Dealer)
        .join(Dealer, Dealer.id == Proposal.dealer_id)
        .outerjoin(DealerNotificationSettings, DealerNotificationSettings.dealer_id == Dealer.id)
        .outerjoin(
            DealerNotice, and_(DealerNotice.proposal_id == Proposal.id, DealerNotice.event == "expiring")
        )
        .where(
            Proposal.state.in_(unsigned_expiring_states()),
            Proposal.expires_at > now,
            Proposal.expires_at <= now + within,
            DealerNotice.proposal_id.is_(None),
            or_(DealerNotificationSettings.dealer_id.is_(None), DealerNotificationSettings.on_expiring),
        )
        .order_by(Proposal.expires_at)
        .limit(BATCH)
    )


@dataclass(eq=False)
class DealerNoticeActivities(DatabaseActivities):
    email: EmailActivities

    @activity.defn(name=ACTIVITY_RELAY)
    async def relay_dealer_notices(self, data: RelayInput) -> RelayResult:
        result = RelayResult()
        result.queued = await self.queue_expiring(
            datetime.now(UTC), timedelta(days=data.expiring_within_days)
        )
        result.sent, result.failed = await self.deliver_queued()
        return result

    async def queue_expiring(self, now: datetime, within: timedelta) -> int:
        """Queue the notices of unsigned proposals whose validity ends within `within`, for
        the centres that want them (no settings row: they do)."""
        query = expiring_query(now, within)
        queued = 0
        async with self.session_factory() as session:
            for proposal, dealer in (await session.execute(query)).all():
                queued += await queue_notice(session, proposal, dealer, "expiring")
            await session.commit()
        return queued

    async def deliver_queued(self) -> tuple[int, int]:
        async with self.session_factory() as session:
            rows = [
                (row.idempotency_key, row.template, row.recipients)
                for row in await pending_notices(session, BATCH)
                if row.attempts < MAX_ATTEMPTS
            ]
        sent = failed = 0
        for key, template, recipients in rows:
            proposal_id = key.removeprefix("proposal-").split(":", 1)[0]
            async with self.session_factory() as session:
                try:
                    found = await load_proposal_email(
                        session,
                        self.settings,
                        ProposalEmail(str(uuid.UUID(proposal_id)), template, "dealer", key),
                    )
                except ApplicationError:  # the proposal is gone: nothing to say any more
                    found = None
            if found is None:
                continue
            found.to = recipients.split(", ")  # where it was queued to, at the event
            try:
                await self.email.deliver_once(found)
            except ApplicationError as exc:
                activity.logger.warning("dealer notice %s not sent: %s", key, exc.message)
                failed += 1
            else:
                sent += 1
        return sent, failed
