"""`/dev/mailbox`: the dev SMTP sink's mails as pages (mounted only with the dev profile).

The sink (cli/mailsink.py, `carflow mailsink`) stores every mail in the Maildir
`Settings.mailbox_dir`; this module reads it.
"""

from __future__ import annotations

import email.policy
import html as html_module
import mailbox
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import SettingsDep
from api.errors import ApiError
from api.templating import templates

router = APIRouter(prefix="/dev/mailbox", include_in_schema=False)

_HEAD = re.compile(r"<head[^>]*>", re.IGNORECASE)
_HREF = re.compile(r"""href=["'](https?://[^"']+)["']""", re.IGNORECASE)
_URL = re.compile(r"""https?://[^\s"'<>]+""")


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
    def html_opening_links_in_new_tabs(self) -> str | None:
        """The HTML part with every link aimed at a new top-level tab (a `<base>` the frame obeys)."""
        html = self.html
        if html is None:
            return None
        base = '<base target="_blank">'
        head = _HEAD.search(html)
        return html[: head.end()] + base + html[head.end() :] if head else base + html

    @property
    def links(self) -> list[str]:
        """The mail's web links, in order, once each (from the HTML part, else the text part)."""
        if self.html is not None:
            found = [html_module.unescape(url) for url in _HREF.findall(self.html)]
        else:
            found = _URL.findall(self.text or "")
        return list(dict.fromkeys(found))

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


@router.get("", response_class=HTMLResponse)
async def mailbox_page(request: Request, settings: SettingsDep) -> Response:
    mails = read_mailbox(settings.mailbox_dir)
    return templates.TemplateResponse(
        request, "dev/mailbox.html", {"mails": mails, "smtp": f"{settings.smtp_host}:{settings.smtp_port}"}
    )


@router.get("/{key}", response_class=HTMLResponse)
async def mail_page(request: Request, key: str, settings: SettingsDep) -> Response:
    mail = read_mail(settings.mailbox_dir, key)
    if mail is None:
        raise ApiError(404, "not_found", "Ce message n'existe pas (ou plus) dans la boîte de dev.")
    return templates.TemplateResponse(request, "dev/mail.html", {"mail": mail})


@router.get("/{key}/raw")
async def mail_raw(key: str, settings: SettingsDep) -> Response:
    mail = read_mail(settings.mailbox_dir, key)
    if mail is None:
        raise ApiError(404, "not_found", "Ce message n'existe pas (ou plus) dans la boîte de dev.")
    return Response(mail.message.as_bytes(), media_type="message/rfc822")
