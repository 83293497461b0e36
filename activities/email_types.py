"""Inputs and results of the email activities (plain dataclasses, as Temporal payloads)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Attachment:
    filename: str
    sha256: str  # in the DocumentStore: history carries the name, not the bytes
    content_type: str = "application/pdf"


@dataclass
class EmailInput:
    idempotency_key: str  # unique per logical email, e.g. "proposal-<id>:sent:1"
    template: str  # name under activities/templates/email/
    to: list[str]
    context: dict[str, Any] = field(default_factory=dict)
    reply_to: str | None = None
    attachments: list[Attachment] = field(default_factory=list)


@dataclass
class EmailResult:
    message_id: str
    already_sent: bool
