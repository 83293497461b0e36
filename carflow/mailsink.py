"""The dev SMTP sink: accepts every mail on 127.0.0.1:1025 and keeps it in a Maildir.

The API shows that Maildir at /dev/mailbox (dev profile only), so mails and dev SMS are
readable without a mail client. Nothing is relayed anywhere.
"""

from __future__ import annotations

import email.policy
import mailbox
import signal
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox


def ensure_maildir(maildir: Path) -> None:
    # mailbox.Maildir only creates cur/new/tmp when the folder itself is missing.
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)


def start_sink(maildir: Path, host: str, port: int) -> Controller:
    ensure_maildir(maildir)
    controller = Controller(Mailbox(maildir), hostname=host, port=port)
    controller.start()
    return controller


def serve_forever(maildir: Path, host: str, port: int) -> None:
    controller = start_sink(maildir, host, port)
    print(f"mail sink listening on {host}:{port}, storing into {maildir}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


@dataclass(frozen=True)
class StoredMail:
    key: str
    sender: str
    to: str
    subject: str
    date: datetime | None
    message: EmailMessage

    @property
    def text(self) -> str | None:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else None

    @property
    def html(self) -> str | None:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else None

    @property
    def attachments(self) -> list[tuple[str, str, int]]:
        return [
            (
                part.get_filename() or "attachment",
                part.get_content_type(),
                len(part.get_payload(decode=True) or b""),
            )
            for part in self.message.iter_attachments()
        ]


def _parse(key: str, raw: bytes) -> StoredMail:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    try:
        date = parsedate_to_datetime(message["Date"]) if message["Date"] else None
    except (TypeError, ValueError):
        date = None
    return StoredMail(
        key=key,
        sender=str(message.get("From", "")),
        to=str(message.get("To", "")),
        subject=str(message.get("Subject", "(sans objet)")),
        date=date,
        message=message,
    )


def read_mailbox(maildir: Path) -> list[StoredMail]:
    """Every stored mail, newest first."""
    if not maildir.exists():
        return []
    box = mailbox.Maildir(maildir, create=False)
    mails = [_parse(key, box.get_bytes(key)) for key in box.iterkeys()]
    epoch = datetime.min.replace(tzinfo=UTC)
    return sorted(mails, key=lambda m: (m.date or epoch, m.key), reverse=True)


def read_mail(maildir: Path, key: str) -> StoredMail | None:
    if not maildir.exists():
        return None
    box = mailbox.Maildir(maildir, create=False)
    try:
        return _parse(key, box.get_bytes(key))
    except KeyError:
        return None
