"""The dev SMTP sink: accepts every mail on 127.0.0.1:1025 and keeps it in a Maildir.

The API shows that Maildir at /dev/mailbox (dev profile only, api/platform/mailbox.py), so
mails and dev SMS are readable without a mail client. Nothing is relayed anywhere.
"""

from __future__ import annotations

import signal
import threading
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
