"""A proposal mail superseded by an address correction is dropped, not sent twice.

Before: the mail to the wrong address failed and waited for ADV; the dealer corrected the
address and resent; the ADV retry then sent the first mail too (now to the corrected
address): the buyer got it twice. The time-skipping server, the real worker, a real SMTP
sink that refuses the wrong address (550), as a mail server does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from proposal_harness import Proposals, fire, record_history, status
from sqlalchemy import update
from stack import running_worker
from test_visibility_devserver import REFUSED, RefusingMailbox

from cli.mailsink import ensure_maildir
from db.models import Proposal
from support import Sink, eventually
from workflows.proposal_contract import SIGNAL_RETRY_EMAILS, proposal_id_from_workflow_id

CORRECTED = "marie.corrigee@example.com"


class RefusingSink(Sink):
    def start(self) -> None:
        ensure_maildir(self.dir)
        self.controller = Controller(
            RefusingMailbox(self.dir), hostname=self.settings.smtp_host, port=self.settings.smtp_port
        )
        self.controller.start()


@pytest.fixture
def refusing_sink(migrated) -> Iterator[Sink]:  # noqa: ANN001
    with RefusingSink(migrated).running() as started:
        yield started


async def set_buyer_email(session_factory, handle, address: str) -> None:  # noqa: ANN001
    async with session_factory() as session:
        await session.execute(
            update(Proposal)
            .where(Proposal.id == uuid.UUID(proposal_id_from_workflow_id(handle.id) or ""))
            .values(buyer_email=address)
        )
        await session.commit()


async def test_a_resend_after_a_correction_drops_the_failed_mail_and_adv_retry_sends_nothing_more(
    temporal_env, migrated, session_factory, refusing_sink: Sink
) -> None:
    async with running_worker(temporal_env, migrated, session_factory):
        proposals = Proposals(migrated, session_factory, temporal_env)
        handle = await proposals.create()
        await set_buyer_email(session_factory, handle, REFUSED)
        await fire(handle, "send_to_buyer")
        failed = await eventually(lambda: status(handle), lambda s: s.email_failed)
        assert failed.pending_emails == [f"{handle.id}:proposal_sent:1"]

        # The dealer corrects the address (PATCH commits it, then fires resend).
        await set_buyer_email(session_factory, handle, CORRECTED)
        resent = await fire(handle, "resend")
        assert resent.sent_count == 2 and resent.email_failed is False
        done = await eventually(lambda: status(handle), lambda s: not s.pending_emails)
        assert done.email_failed is False
        # ADV's retry, as it would come after the correction: nothing is left to send.
        await handle.signal(SIGNAL_RETRY_EMAILS)
        await fire(handle, "view", actor="buyer")  # a later update: the signal was handled
        assert (await status(handle)).pending_emails == []
        assert refusing_sink.recipients() == [CORRECTED]  # once, to the corrected address
        row = await proposals.row(handle)
        assert row.email_failed is False
        await record_history(handle, "i15_resend_supersedes_failed_mail")
