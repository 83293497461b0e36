"""The signed contract's audit page, a fixed-layout one-page A4 PDF written with pydyf
(activities/fixed_layout.py): a few milliseconds of CPU where WeasyPrint takes about 70 for the
same page. Its text and look are those of templates/pdf/audit.html (and _style.html), which
stays the fallback: `render` returns None for text the standard PDF fonts cannot show (outside
cp1252) or that would not fit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from activities.document_templates import paris_time
from activities.fixed_layout import BLUE, INK, MM, MUTED, Layout, Page, encode

if TYPE_CHECKING:
    from activities.documents import SignatureAudit

# _style.html: page margins 18 mm × 16 mm, line height 1.4, cells padded 1.2 mm × 2 mm.
LAYOUT = Layout(margin_x=16 * MM, margin_y=18 * MM, line_height=1.4, pad_x=2 * MM, pad_y=1.2 * MM)


def rows(contract: dict[str, Any], audit: SignatureAudit) -> list[tuple[str, str, str]]:
    """(label, value, value font) as in audit.html, per how the signer signed (method_key)."""
    result = [
        ("Contrat", contract["contract_number"], "F1"),
        ("Signataire", audit.signer_name, "F1"),
        ("Méthode", audit.method, "F1"),
        ("Identification du signataire", audit.identification, "F1"),
    ]
    if audit.method_key != "sms_code":
        result.append(("Document consulté le", paris_time(audit.reviewed_at), "F1"))
    result.append(("Signé le", paris_time(audit.signed_at), "F1"))
    if audit.method_key == "docusign":
        result.append(("Référence DocuSign", audit.user_agent, "F1"))
    else:
        whose = "de l'écran du vendeur" if audit.method_key == "sms_code" else "du signataire"
        result.append((f"Adresse IP {whose}", audit.ip, "F1"))
        result.append((f"Navigateur {whose}", audit.user_agent, "F1"))
    result.append(("Empreinte SHA-256 du document signé", audit.document_sha256, "F3"))
    return result


def render(contract: dict[str, Any], audit: SignatureAudit) -> bytes | None:
    """The audit page as a PDF, or None when only WeasyPrint can lay it out."""
    number = contract["contract_number"]
    where = "sur l'écran du vendeur, " if audit.method_key == "sms_code" else ""
    closing = (
        "Les pages qui précèdent sont, à l'octet près, la proposition de contrat (PDF) présentée au "
        f"signataire {where}avant sa signature ; l'empreinte ci-dessus est celle de ce document : "
        "toute modification donnerait une empreinte différente."
    )
    try:
        title = encode("Page d'audit de la signature")
        sentence = encode(
            f"Contrat n° {number} signé électroniquement par {audit.signer_name} le "
            f"{paris_time(audit.signed_at)}."
        )
        table = [(encode(label), encode(value), font) for label, value, font in rows(contract, audit)]
        closing_text = encode(closing)
    except UnicodeEncodeError:
        return None

    page = Page(LAYOUT)
    page.paragraph(title, "F2", 16, BLUE)
    page.top -= 4 * MM  # h1's margin, which takes in the paragraph's 1 em
    page.paragraph(sentence, "F2", 10, INK)
    page.top -= 10  # the paragraph's 1 em below
    for label, value, font in table:
        page.row(label, value, font)
    page.top -= 8.5  # .muted's 1 em above
    page.paragraph(closing_text, "F1", 8.5, MUTED)
    return page.finished(b"Page d'audit", f"Audit de la signature du contrat {number}")
