"""`/dev/mailbox`: the dev SMTP sink's mails as pages (mounted only with the dev profile)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import SettingsDep
from api.errors import ApiError
from api.templating import templates
from carflow.mailsink import read_mail, read_mailbox

router = APIRouter(prefix="/dev/mailbox", include_in_schema=False)


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
