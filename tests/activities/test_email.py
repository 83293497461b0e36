"""The email activity against a real SMTP sink: sent once, never twice, delayed not lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.email import EmailActivities, EmailInput, SmtpMailer, message_id_for
from activities.email_templates import EmailRenderer
from carflow.settings import Settings
from db.models import OutboxEmail

CONTEXT = {
    "buyer_name": "Marie Curie",
    "dealer": {
        "name": "Garage des Tilleuls",
        "email": "contact@tilleuls.example",
        "phone": "01 23 45 67 89",
        "address": "12 avenue des Tilleuls, Lyon",
    },
    "product_label": "Extension de garantie 24 mois",
    "product": {"phrase": "extension de garantie 24 mois", "a": "une", "active": "active"},
    "vehicle": "Peugeot 308 (AB-123-CD)",
    "token": "tok123",
    "valid_until": "23/12/2026",
}


@pytest.fixture
def activities(migrated: Settings, session_factory) -> EmailActivities:
    return EmailActivities(migrated, session_factory, EmailRenderer(), SmtpMailer(migrated))


def proposal_mail(key: str = "proposal-1:sent:1") -> EmailInput:
    return EmailInput(
        idempotency_key=key, template="proposal_sent", to=["marie@example.com"], context=CONTEXT
    )


async def test_sends_a_french_text_and_html_mail(activities, sink, migrated: Settings) -> None:
    result = await ActivityEnvironment().run(activities.send_email, proposal_mail())
    assert result.already_sent is False
    [message] = sink.messages()
    assert message["To"] == "marie@example.com"
    assert message["Subject"] == "Garage des Tilleuls vous propose une extension de garantie 24 mois"
    assert (
        message["Message-ID"] == result.message_id == message_id_for("proposal-1:sent:1", migrated.mail_from)
    )
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert f"{migrated.public_url}/p/tok123" in text
    assert f'href="{migrated.public_url}/p/tok123"' in html
    assert "valable jusqu'au 23/12/2026" in text
    assert "01 23 45 67 89" in text and "contact@tilleuls.example" in html


async def test_retry_of_a_sent_mail_does_not_send_again(activities, sink) -> None:
    env = ActivityEnvironment()
    await env.run(activities.send_email, proposal_mail())
    again = await env.run(activities.send_email, proposal_mail())
    assert again.already_sent is True
    assert len(sink.messages()) == 1
    other = await env.run(activities.send_email, proposal_mail("proposal-1:sent:2"))
    assert other.already_sent is False
    assert len(sink.messages()) == 2


async def test_sink_down_delays_but_never_loses_nor_duplicates(
    activities, sink, session_factory, migrated
) -> None:
    env = ActivityEnvironment()
    sink.stop()
    for _ in range(2):
        with pytest.raises(ApplicationError) as info:
            await env.run(activities.send_email, proposal_mail())
        assert info.value.non_retryable is False  # an outage: Temporal retries it
        assert f"SMTP {migrated.smtp_host}:{migrated.smtp_port} refused connection" in str(info.value)
        assert "proposal-1:sent:1" in str(info.value)
    async with session_factory() as session:
        row = await session.scalar(select(OutboxEmail))
        assert (row.status, row.attempts) == ("pending", 2)
        assert "refused connection" in row.last_error

    sink.start()
    await env.run(activities.send_email, proposal_mail())
    await env.run(activities.send_email, proposal_mail())
    assert len(sink.messages()) == 1
    async with session_factory() as session:
        row = await session.scalar(select(OutboxEmail))
        assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
        assert row.sent_at is not None


async def test_unknown_template_is_not_retried(activities, sink) -> None:
    bad = EmailInput(idempotency_key="k", template="no_such_template", to=["a@example.com"])
    with pytest.raises(ApplicationError) as info:
        await ActivityEnvironment().run(activities.send_email, bad)
    assert info.value.non_retryable is True
    assert "no_such_template" in str(info.value)
    assert sink.messages() == []


async def test_missing_template_variable_is_not_retried(activities, sink) -> None:
    data = proposal_mail()
    data.context = {k: v for k, v in CONTEXT.items() if k != "valid_until"}
    with pytest.raises(Exception) as info:
        await ActivityEnvironment().run(activities.send_email, data)
    assert "valid_until" in str(info.value)
    assert sink.messages() == []


def test_templates_exist_in_three_parts() -> None:
    root = Path(__file__).resolve().parents[2] / "activities" / "templates" / "email"
    names = {p.name.split(".")[0] for p in root.iterdir()}
    for name in names:
        for suffix in (".subject.txt", ".txt", ".html"):
            assert (root / f"{name}{suffix}").exists(), f"{name}{suffix} missing"
