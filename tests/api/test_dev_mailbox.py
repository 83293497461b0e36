"""`/dev/mailbox` shows what the dev SMTP sink received; only with the dev profile."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib
import httpx

from api import create_app
from carflow.settings import Settings
from cli.mailsink import start_sink


async def send_test_mail(settings: Settings, subject: str) -> None:
    message = EmailMessage()
    message["From"] = "Carflow <no-reply@carflow.localhost>"
    message["To"] = "0612345678@sms.localhost"
    message["Subject"] = subject
    message.set_content("Votre code : 123456")
    message.add_alternative("<p>Votre code : <b>123456</b> <script>alert(1)</script></p>", subtype="html")
    await aiosmtplib.send(message, hostname=settings.smtp_host, port=settings.smtp_port)


async def test_mails_received_by_the_sink_are_listed_and_readable(client, migrated: Settings) -> None:
    sink = start_sink(migrated.mailbox_dir, migrated.smtp_host, migrated.smtp_port)
    try:
        await send_test_mail(migrated, "Code de signature")
        await send_test_mail(migrated, "Deuxième message")
    finally:
        sink.stop()

    page = await client.get("/dev/mailbox")
    assert page.status_code == 200
    assert "Code de signature" in page.text and "Deuxième message" in page.text
    key = page.text.split('href="/dev/mailbox/')[1].split('"')[0]

    detail = await client.get(f"/dev/mailbox/{key}")
    assert detail.status_code == 200
    assert "Votre code : 123456" in detail.text
    assert "0612345678@sms.localhost" in detail.text
    # The mail's HTML is shown inside a script-less sandbox, escaped into srcdoc.
    assert 'sandbox="allow-popups' in detail.text
    assert "<script>alert(1)</script>" not in detail.text

    raw = await client.get(f"/dev/mailbox/{key}/raw")
    assert raw.headers["content-type"].startswith("message/rfc822")
    assert b"Subject:" in raw.content


async def test_unknown_message_is_a_404(client) -> None:
    response = await client.get("/dev/mailbox/does-not-exist")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_empty_mailbox_says_so(client) -> None:
    page = await client.get("/dev/mailbox")
    assert page.status_code == 200
    assert "Aucun message pour l'instant." in page.text


async def test_mailbox_is_not_mounted_in_prod(migrated: Settings, temporal_env) -> None:
    prod = migrated.model_copy(update={"profile": "prod"})
    app = create_app(prod, temporal_client=temporal_env.client)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        assert (await http.get("/dev/mailbox")).status_code == 404
    await app.state.engine.dispose()
