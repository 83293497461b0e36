"""The dealer's notices (issue 13): the centre is emailed once when a buyer first opens a
proposal, signs, withdraws, and when an unsigned proposal is about to expire; each as the
centre's settings say (which events, which address). Real worker on the time-skipping
server, real SMTP sink; the relay activity runs as the DealerNoticesWorkflow runs it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from proposal_harness import Proposals, fire, proposal_row
from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

from activities.dealer_notices import DealerNoticeActivities
from activities.email import EmailActivities, SmtpMailer
from activities.email_templates import EmailRenderer
from db.accounts import create_dealer
from db.models import DealerNotice, DealerNotificationSettings, OutboxEmail
from support import Sink, eventually
from workflows.dealer_notices import WORKFLOW_TYPE, NoticesConfig, RelayInput, RelayResult, ensure_running

GARAGE = "garage@example.com"  # the harness's centre
FIRST_VIEW = "l'a ouverte"
SIGNED = "Vente signée"
WITHDRAWN = "s'est rétracté"
EXPIRING = "sans signature"


def relay(proposals: Proposals) -> DealerNoticeActivities:
    email = EmailActivities(
        proposals.settings, proposals.session_factory, EmailRenderer(), SmtpMailer(proposals.settings)
    )
    return DealerNoticeActivities(proposals.settings, proposals.session_factory, email)


async def run_relay(proposals: Proposals, days: int = 3) -> RelayResult:
    return await ActivityEnvironment().run(relay(proposals).relay_dealer_notices, RelayInput(days))


def dealer_mails(sink: Sink, words: str) -> list[str]:
    return [str(m["To"]) for m in sink.messages() if words in str(m["Subject"])]


async def settings_row(proposals: Proposals, **values: object) -> None:
    dealer_id = await proposals.dealer()
    async with proposals.session_factory() as session:
        session.add(DealerNotificationSettings(dealer_id=dealer_id, **values))
        await session.commit()


async def test_first_view_signature_and_withdrawal_each_email_the_centre_once(
    proposals: Proposals, sink: Sink
) -> None:
    handle = await proposals.create(send_now=True)
    await fire(handle, "view", actor="buyer")
    await fire(handle, "view", actor="buyer")  # a second opening is no news
    first = await run_relay(proposals)
    assert (first.sent, first.failed) == (1, 0)
    assert dealer_mails(sink, FIRST_VIEW) == [GARAGE]
    [mail] = [m for m in sink.messages() if FIRST_VIEW in str(m["Subject"])]
    text = mail.get_body(("plain",)).get_content()
    assert "Marie Curie vient d'ouvrir pour la première fois" in text
    assert f"/vendeur/propositions/{(await proposals.row(handle)).id}" in text

    await fire(handle, "start_in_person")
    await fire(handle, "sign")
    await eventually(lambda: _async(dealer_mails(sink, SIGNED)))
    await proposals.env.sleep(timedelta(days=2))
    assert (await fire(handle, "withdraw")).state == "withdrawn"
    row = await proposals.row(handle)
    assert row.withdrawn_at is not None
    assert (await run_relay(proposals)).sent == 1
    assert dealer_mails(sink, WITHDRAWN) == [GARAGE]

    # Again and again: nothing more is sent.
    assert (await run_relay(proposals)).sent == 0
    assert dealer_mails(sink, FIRST_VIEW) == [GARAGE]
    assert dealer_mails(sink, SIGNED) == [GARAGE]
    assert dealer_mails(sink, WITHDRAWN) == [GARAGE]
    async with proposals.session_factory() as session:
        events = set(
            await session.scalars(select(DealerNotice.event).where(DealerNotice.proposal_id == row.id))
        )
    assert events == {"first_view", "withdrawn"}


async def test_the_centres_settings_choose_the_events_and_the_address(
    proposals: Proposals, sink: Sink
) -> None:
    await settings_row(
        proposals,
        email="notifs@garage.example",
        on_first_view=False,
        on_signed=True,
        on_withdrawn=False,
        on_expiring=True,
    )
    handle = await proposals.create(send_now=True)
    await fire(handle, "view", actor="buyer")
    await fire(handle, "start_in_person")
    await fire(handle, "sign")
    await eventually(lambda: _async(dealer_mails(sink, SIGNED)))
    await fire(handle, "withdraw")
    assert (await run_relay(proposals)).sent == 0
    assert dealer_mails(sink, SIGNED) == ["notifs@garage.example"]  # the chosen address
    assert dealer_mails(sink, FIRST_VIEW) == []
    assert dealer_mails(sink, WITHDRAWN) == []


async def test_no_signature_notice_when_the_centre_turned_it_off(proposals: Proposals, sink: Sink) -> None:
    await settings_row(proposals, on_signed=False)
    handle = await proposals.create()
    await fire(handle, "start_in_person")
    await fire(handle, "sign")
    # The workflow's effects run in order: once the withdrawal's confirmation (queued after
    # the signature's mails) is out, the signature's notice would have been too.
    await fire(handle, "withdraw")
    await eventually(lambda: _async([s for s in sink.subjects() if "rétractation" in s.lower()]))
    assert "marie@example.com" in sink.recipients()
    assert dealer_mails(sink, SIGNED) == []


async def test_an_unsigned_proposal_about_to_expire_is_noticed_once(proposals: Proposals, sink: Sink) -> None:
    dealer_id = await proposals.dealer()
    now = datetime.now(UTC)
    async with proposals.session_factory() as session:
        quiet = await create_dealer(session, "Garage discret", email="discret@example.com")
        session.add(DealerNotificationSettings(dealer_id=quiet.id, on_expiring=False))
        rows = {
            "soon": proposal_row(
                proposals.settings, dealer_id, state="sent", expires_at=now + timedelta(days=2)
            ),
            "viewed": proposal_row(
                proposals.settings, dealer_id, state="viewed", expires_at=now + timedelta(hours=5)
            ),
            "later": proposal_row(
                proposals.settings, dealer_id, state="sent", expires_at=now + timedelta(days=10)
            ),
            "devis": proposal_row(
                proposals.settings, dealer_id, state="draft", expires_at=now + timedelta(days=1)
            ),
            "signed": proposal_row(
                proposals.settings, dealer_id, state="signed", expires_at=now + timedelta(days=1)
            ),
            "past": proposal_row(
                proposals.settings, dealer_id, state="sent", expires_at=now - timedelta(hours=1)
            ),
            "quiet": proposal_row(
                proposals.settings, quiet.id, state="sent", expires_at=now + timedelta(days=1)
            ),
        }
        session.add_all(rows.values())
        await session.commit()

    first = await run_relay(proposals, days=3)
    assert (first.queued, first.sent) == (2, 2)
    assert dealer_mails(sink, EXPIRING) == [GARAGE, GARAGE]
    noticed = {str(m["Subject"]).split(" ")[1] for m in sink.messages() if EXPIRING in str(m["Subject"])}
    assert noticed == {rows["soon"].contract_number, rows["viewed"].contract_number}
    again = await run_relay(proposals, days=3)
    assert (again.queued, again.sent) == (0, 0)
    assert len(dealer_mails(sink, EXPIRING)) == 2


async def test_a_notice_that_fails_is_tried_again_at_the_next_round(proposals: Proposals, sink: Sink) -> None:
    handle = await proposals.create(send_now=True)
    sink.stop()
    await fire(handle, "view", actor="buyer")
    assert (await run_relay(proposals)).failed == 1
    async with proposals.session_factory() as session:
        row = await session.scalar(
            select(OutboxEmail).where(OutboxEmail.template == "dealer_first_view_notice")
        )
        assert row is not None and row.status == "pending" and row.last_error
    sink.start()
    assert (await run_relay(proposals)).sent == 1
    assert dealer_mails(sink, FIRST_VIEW) == [GARAGE]


async def test_the_relay_workflow_sends_what_is_queued(proposals: Proposals, sink: Sink) -> None:
    handle = await proposals.create(send_now=True)
    await fire(handle, "view", actor="buyer")
    config = NoticesConfig(expiring_within_days=3, interval_s=3600, rounds_per_run=1)
    await ensure_running(proposals.client, proposals.settings.task_queue, config)
    await ensure_running(proposals.client, proposals.settings.task_queue, config)  # one runs
    try:
        await eventually(lambda: _async(dealer_mails(sink, FIRST_VIEW)))
        assert dealer_mails(sink, FIRST_VIEW) == [GARAGE]
        described = await proposals.client.get_workflow_handle("dealer-notices").describe()
        assert described.workflow_type == WORKFLOW_TYPE
    finally:
        await proposals.client.get_workflow_handle("dealer-notices").terminate("test over")


async def _async(value: object) -> object:
    return value
