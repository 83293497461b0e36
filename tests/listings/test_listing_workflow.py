"""ListingWorkflow on the time-skipping server with a real worker, database and SMTP sink."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from listings_harness import (
    ListingHarness,
    fire,
    password_from,
    record_history,
    status,
    survey,
    wait_for_mail,
)
from sqlalchemy import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from carflow.password_hashing import verify_password
from db.models import Inspection, ListingSurvey, Owner
from statemachines.deadlines import listing_publication_ends_at, listing_sold_period_ends_at
from support import Sink, eventually
from workflows.listing_contract import (
    INVALID_INPUT_ERROR_TYPE,
    REFUSED_ERROR_TYPE,
    SIGNAL_RETRY_EMAILS,
    ContactRequest,
    EventRequest,
    ListingEdit,
    ShareRequest,
    SurveyAnswers,
    listing_workflow_id,
)

DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)


async def refused(handle, event: str, argument=None) -> dict:  # noqa: ANN001
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await fire(handle, event, argument)
    cause = info.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == REFUSED_ERROR_TYPE, cause
    return cause.details[0]


async def invalid(handle, event: str, argument) -> dict:  # noqa: ANN001
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await fire(handle, event, argument)
    cause = info.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == INVALID_INPUT_ERROR_TYPE, cause
    return cause.details[0]


async def sleep_until(listings: ListingHarness, moment) -> None:  # noqa: ANN001
    now = await listings.env.get_current_time()
    assert moment > now, (moment, now)
    await listings.env.sleep(moment - now)


async def test_intake_starts_in_pending_survey_with_report_and_password_mailed(
    listings: ListingHarness, sink: Sink
) -> None:
    intake = await listings.intake()
    handle = listings.client.get_workflow_handle(listing_workflow_id(intake.listing.id))
    assert (await status(handle)).state == "pending_survey"
    [mail] = await wait_for_mail(sink)
    assert mail["To"] == "marie.curie@example.com"
    password = password_from(mail)
    # The activity records the sending right after the SMTP server took the mail: the mail
    # can be in the sink a moment before that commit.
    for _ in range(100):
        async with listings.session_factory() as session:
            owner = await session.get(Owner, intake.owner.id)
            if owner is not None and owner.credentials_sent_at is not None:
                break
        await asyncio.sleep(0.05)
    async with listings.session_factory() as session:
        owner = await session.get(Owner, intake.owner.id)
        assert owner is not None and owner.password_hash and owner.credentials_sent_at
        assert verify_password(password, owner.password_hash, listings.settings)
        assert password not in owner.password_hash
        inspection = await session.get(Inspection, intake.inspection.id)
        assert inspection is not None and inspection.report_pdf_sha256
    # The clear password is in the mail only: never in the workflow's history.
    history = (await handle.fetch_history()).to_json()
    assert password not in history
    assert "marie.curie@example.com" not in history


async def test_returning_owner_keeps_their_password(listings: ListingHarness, sink: Sink) -> None:
    first = await listings.intake()
    [credentials] = await wait_for_mail(sink)
    second = await listings.intake()
    assert second.owner.id == first.owner.id and not second.owner_created
    messages = await wait_for_mail(sink, 2)
    [notice] = [m for m in messages if "nouvelle expertise" in str(m["Subject"])]
    assert "Mot de passe :" not in str(notice.get_body(preferencelist=("plain",)).get_content())
    async with listings.session_factory() as session:
        owner = await session.get(Owner, first.owner.id)
        assert owner is not None and verify_password(
            password_from(credentials), owner.password_hash, listings.settings
        )


async def test_published_listing_expires_3_months_after_publication_not_intake(
    listings: ListingHarness, sink: Sink
) -> None:
    handle = await listings.create()
    await wait_for_mail(sink)
    # The owner takes 20 days to fill the survey: the 3 months start at publication.
    await listings.env.sleep(20 * DAY)
    published = await survey(handle, publish=True)
    assert published.state == "published"
    assert published.published_at is not None
    ends = listing_publication_ends_at(published.published_at)
    assert published.publication_ends_at == ends
    row = await listings.row(handle)
    assert (row.state, row.publicly_visible, row.publication_ends_at) == ("published", True, ends)
    async with listings.session_factory() as session:
        answers = await session.scalar(select(ListingSurvey).where(ListingSurvey.listing_id == row.id))
        assert answers is not None and answers.publish and answers.answer_1 == "excellent"

    await sleep_until(listings, ends - 5 * MINUTE)
    assert (await status(handle)).state == "published"
    await listings.env.sleep(10 * MINUTE)
    assert (await status(handle)).state == "expired"
    row = await listings.row(handle)
    assert (row.state, row.publicly_visible) == ("expired", False)
    await wait_for_mail(sink, 2)
    assert any("n'est plus en ligne" in subject for subject in sink.subjects())
    await record_history(handle, "listing_published_expired")
    await record_history(handle, "i11_lean_listing_published_expired")  # the lean history (issue 11)


async def test_unpublish_and_publish_again_restarts_the_3_months(
    listings: ListingHarness, sink: Sink
) -> None:
    handle = await listings.create()
    first = await survey(handle, publish=True)
    assert first.publication_ends_at is not None
    await listings.env.sleep(30 * DAY)
    private = await fire(handle, "unpublish")
    assert (private.state, private.publication_ends_at, private.publicly_visible) == ("private", None, False)
    assert (await listings.row(handle)).publicly_visible is False

    await listings.env.sleep(30 * DAY)
    again = await fire(handle, "publish")
    assert again.published_at is not None and again.published_at > first.published_at  # type: ignore[operator]
    new_end = listing_publication_ends_at(again.published_at)
    assert again.publication_ends_at == new_end
    # The first period's end passes: still published.
    await sleep_until(listings, first.publication_ends_at + DAY)
    assert (await status(handle)).state == "published"
    await sleep_until(listings, new_end + MINUTE)
    assert (await status(handle)).state == "expired"

    # An expired listing can be published for a new period.
    renewed = await fire(handle, "publish")
    assert renewed.state == "published"
    assert renewed.publication_ends_at == listing_publication_ends_at(renewed.published_at)  # type: ignore[arg-type]
    await record_history(handle, "listing_republished_expired_renewed")


async def test_sold_listing_shows_vendu_for_one_month_then_is_archived(
    listings: ListingHarness, sink: Sink
) -> None:
    handle = await listings.create()
    await survey(handle, publish=True)
    await listings.env.sleep(10 * DAY)
    sold = await fire(handle, "mark_sold")
    assert (sold.state, sold.visible_when_sold, sold.publicly_visible, sold.accepts_contact) == (
        "sold",
        True,
        True,
        False,
    )
    assert sold.sold_at is not None
    ends = listing_sold_period_ends_at(sold.sold_at)
    row = await listings.row(handle)
    assert (row.state, row.publicly_visible, row.sold_period_ends_at) == ("sold", True, ends)

    await sleep_until(listings, ends - 5 * MINUTE)
    assert (await status(handle)).state == "sold"
    await listings.env.sleep(10 * MINUTE)
    final = await handle.result()
    assert (final.state, final.publicly_visible) == ("archived", False)
    row = await listings.row(handle)
    assert (row.state, row.publicly_visible) == ("archived", False)
    await record_history(handle, "listing_sold_archived")


async def test_listing_sold_while_private_never_becomes_visible(listings: ListingHarness, sink: Sink) -> None:
    handle = await listings.create()
    private = await survey(handle, publish=False)
    assert (private.state, private.publicly_visible, private.published_at) == ("private", False, None)
    sold = await fire(handle, "mark_sold")
    assert (sold.state, sold.visible_when_sold, sold.publicly_visible) == ("sold", False, False)
    assert (await listings.row(handle)).publicly_visible is False
    # Nothing brings it back to the public: publishing a sold listing is refused.
    detail = await refused(handle, "publish")
    assert detail["state"] == "sold"
    await listings.env.sleep(15 * DAY)
    assert (await listings.row(handle)).publicly_visible is False
    assert sold.sold_at is not None
    await sleep_until(listings, listing_sold_period_ends_at(sold.sold_at) + MINUTE)
    final = await handle.result()
    assert (final.state, final.publicly_visible) == ("archived", False)
    await record_history(handle, "listing_private_sold_archived")


async def test_survey_gate_blocks_every_owner_action(listings: ListingHarness, sink: Sink) -> None:
    handle = await listings.create()
    attempts = [
        ("publish", EventRequest()),
        ("unpublish", EventRequest()),
        ("mark_sold", EventRequest()),
        ("edit", ListingEdit(price_cents=1000)),
        ("edit", ListingEdit(published=True)),
        ("share_report", ShareRequest(share_id="00000000-0000-0000-0000-000000000000")),
        ("contact_owner", ContactRequest(message_id="00000000-0000-0000-0000-000000000000")),
    ]
    for action, argument in attempts:
        detail = await refused(handle, action, argument)
        assert detail["state"] == "pending_survey", action
        assert detail["allowed_events"] == ["complete_survey"], action
        assert "survey" in detail["reason"], action
    # Refused updates never reach history.
    history = await handle.fetch_history()
    accepted = [
        e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]
    assert accepted == []
    row = await listings.row(handle)
    assert (row.state, row.price_cents) == ("pending_survey", 1_290_000)

    done = await survey(handle, publish=False)
    assert done.state == "private"
    assert set(done.allowed_events) == {"publish", "mark_sold", "edit", "share_report"}
    edited = await fire(handle, "edit", ListingEdit(price_cents=0, location="Villeurbanne", published=True))
    assert (edited.state, edited.price_cents, edited.location) == ("published", 0, "Villeurbanne")
    row = await listings.row(handle)
    assert (row.state, row.price_cents, row.location, row.publicly_visible) == (
        "published",
        0,
        "Villeurbanne",
        True,
    )
    await record_history(handle, "listing_gate_then_edited")


async def test_bad_survey_input_is_rejected_before_history(listings: ListingHarness, sink: Sink) -> None:
    handle = await listings.create()

    def answers(levels: list[str], cgu: bool = True) -> EventRequest:
        return EventRequest(survey=SurveyAnswers(answers=levels, publish=True, cgu_accepted=cgu))

    assert (await invalid(handle, "complete_survey", answers(["excellent"] * 3)))["field"] == "answers"
    bad_level = await invalid(handle, "complete_survey", answers(["excellent", "parfait", "poor", "poor"]))
    assert bad_level["field"] == "answers.1"
    assert (await invalid(handle, "complete_survey", answers(["poor"] * 4, cgu=False)))[
        "field"
    ] == "cgu_accepted"
    assert (await invalid(handle, "complete_survey", EventRequest()))["field"] == "answers"
    assert (await status(handle)).state == "pending_survey"


async def test_only_published_unsold_listings_take_contact_messages(
    listings: ListingHarness, sink: Sink
) -> None:
    handle = await listings.create()
    await survey(handle, publish=False)
    request = ContactRequest(message_id="00000000-0000-0000-0000-000000000000")
    assert (await refused(handle, "contact_owner", request))["state"] == "private"
    await fire(handle, "publish")
    accepted = await fire(handle, "contact_owner", request)
    assert accepted.accepts_contact
    await fire(handle, "mark_sold")
    assert (await refused(handle, "contact_owner", request))["state"] == "sold"
    # The owner's edit of a sold listing is refused too; sharing the report still works.
    assert (await refused(handle, "edit", ListingEdit(price_cents=1)))["state"] == "sold"
    shared = await fire(handle, "share_report", ShareRequest(share_id="00000000-0000-0000-0000-000000000001"))
    assert shared.state == "sold"


async def test_bad_edit_input_is_rejected(listings: ListingHarness, sink: Sink) -> None:
    handle = await listings.create()
    await survey(handle, publish=True)
    assert (await invalid(handle, "edit", ListingEdit(price_cents=-1)))["field"] == "price_cents"
    assert (await invalid(handle, "edit", ListingEdit(location="x" * 201)))["field"] == "location"


async def test_smtp_outage_marks_email_failed_then_adv_retry_mails_a_valid_password_once(
    listings: ListingHarness, sink: Sink
) -> None:
    sink.stop()
    intake = await listings.intake()
    handle = listings.client.get_workflow_handle(listing_workflow_id(intake.listing.id))
    for _ in range(300):
        current = await status(handle)
        if current.email_failed:
            break
        await listings.env.sleep(timedelta(minutes=1))
    assert current.email_failed, current
    assert "refused connection" in (current.email_error or "")
    # The read model follows the workflow's flag by one projection activity: wait for it.
    row = await eventually(lambda: listings.row(handle), lambda row: row.email_failed)
    assert (row.state, row.email_failed) == ("pending_survey", True)

    sink.start()
    await handle.signal(SIGNAL_RETRY_EMAILS)
    [mail] = await wait_for_mail(sink)
    # The flag clears in the workflow once the mail went, then in the read model.
    await eventually(lambda: status(handle), lambda current: not current.email_failed)
    await eventually(lambda: listings.row(handle), lambda row: not row.email_failed)
    assert (await listings.row(handle)).email_failed is False
    async with listings.session_factory() as session:
        owner = await session.get(Owner, intake.owner.id)
        assert owner is not None and verify_password(
            password_from(mail), owner.password_hash, listings.settings
        )
    # The owner can go on: the survey works, and no second password mail ever comes: once the
    # workflow has no activity left to run, the sink has everything it will ever get.
    assert (await survey(handle, publish=False)).state == "private"
    await eventually(handle.describe, lambda d: not d.raw_description.pending_activities)
    assert len(sink.messages()) == 1
