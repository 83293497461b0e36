"""The audit page written with pydyf says what audit.html says, readable by text extraction, and
never loses a character: what WinAnsi cannot show goes through WeasyPrint."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime

import pypdf
import pytest

from activities import audit_page, fixed_layout
from activities.documents import DocumentRenderer, SignatureAudit
from tests.activities.test_documents import CONTRACT

AUDIT = SignatureAudit(
    signer_name="Hélène Dupré-Müller",
    signed_at=datetime(2026, 7, 14, 8, 30, tzinfo=UTC),
    reviewed_at=datetime(2026, 7, 14, 8, 25, tzinfo=UTC),
    ip="203.0.113.7",
    user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari\\604.1",
    document_sha256="0123456789abcdef" * 4,
    identification="Par le nom complet saisi par le signataire : « Hélène Dupré-Müller »",
)
A4 = (595.28, 841.89)


def read(pdf: bytes) -> tuple[pypdf.PdfReader, str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def written(audit: SignatureAudit) -> bytes:
    pdf = audit_page.render(CONTRACT, audit)
    assert pdf is not None  # written directly, not the WeasyPrint fallback
    return pdf


def test_one_a4_page_with_every_datum_readable() -> None:
    reader, text = read(written(AUDIT))
    [page] = reader.pages
    assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4, abs=0.01)
    assert (
        reader.metadata is not None
        and reader.metadata.title == "Audit de la signature du contrat CF0012345678"
    )
    flat = " ".join(text.split())
    for expected in (
        "Page d'audit de la signature",
        "Contrat n° CF0012345678 signé électroniquement par Hélène Dupré-Müller le",
        "« Hélène Dupré-Müller »",
        "Méthode Signature électronique simple (nom saisi par le signataire)",
        "Document consulté le 14/07/2026 10:25:00 (heure de Paris)",
        "Signé le 14/07/2026 10:30:00 (heure de Paris)",
        "Adresse IP du signataire 203.0.113.7",
        "Navigateur du signataire",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari\\604.1",  # ( ) \ escaped
        "toute modification donnerait une empreinte différente.",
    ):
        assert expected in flat, expected
    assert AUDIT.document_sha256 in text.replace("\n", "")  # Courier lines, cut by characters
    assert text.rstrip().endswith("Page d'audit")  # the footer


@pytest.mark.parametrize(
    ("method_key", "shown", "absent"),
    [
        ("local", ["Document consulté le", "Adresse IP du signataire"], ["écran du vendeur", "DocuSign"]),
        (
            "sms_code",
            [
                "Adresse IP de l'écran du vendeur",
                "Navigateur de l'écran du vendeur",
                "sur l'écran du vendeur,",
            ],
            ["Document consulté le", "du signataire 203", "DocuSign"],
        ),
        ("docusign", ["Référence DocuSign", "Document consulté le"], ["Adresse IP", "Navigateur"]),
    ],
)
def test_rows_follow_how_the_signer_signed(method_key: str, shown: list[str], absent: list[str]) -> None:
    _, text = read(written(dataclasses.replace(AUDIT, method_key=method_key)))
    flat = " ".join(text.split())
    for expected in shown:
        assert expected in flat, expected
    for unexpected in absent:
        assert unexpected not in flat, unexpected


def test_a_long_user_agent_wraps_inside_its_column() -> None:
    user_agent = ("Mozilla/5.0 (X11; Linux x86_64) " + "W" * 120 + " ") * 3 + "x" * 41
    assert len(user_agent) == 500
    value = fixed_layout.encode(user_agent)
    lines = fixed_layout.wrap(value, "F1", 10, audit_page.LAYOUT.value_column)
    assert len(lines) > 5
    assert all(fixed_layout.text_width(line, "F1", 10) <= audit_page.LAYOUT.value_column for line in lines)
    assert b"".join(lines).replace(b" ", b"") == value.replace(b" ", b"")  # cut, nothing dropped

    reader, text = read(written(dataclasses.replace(AUDIT, user_agent=user_agent)))
    assert "W" * 25 in text and "x" * 41 in text
    # Every line drawn, from where it starts to where its glyphs end, is inside the text area.
    keys = {f"/{name}": key for key, name in fixed_layout.FONTS.items()}
    spans: list[tuple[float, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: dict, size: float) -> None:
        if text.strip():
            width = fixed_layout.text_width(text.strip("\n").encode("cp1252"), keys[font["/BaseFont"]], size)
            spans.append((tm[4], tm[4] + width))

    reader.pages[0].extract_text(visitor_text=visit)
    assert len(spans) > 20
    margin = audit_page.LAYOUT.margin_x
    assert all(x >= margin and end <= A4[0] - margin for x, end in spans)


def test_the_hash_and_a_word_glued_to_french_punctuation_do_not_break() -> None:
    assert fixed_layout.wrap(b"abc ; def", "F1", 10, fixed_layout.text_width(b"abc ;", "F1", 10)) == [
        b"abc ;",
        b"def",
    ]
    lines = fixed_layout.wrap(b"f" * 64, "F3", 8, audit_page.LAYOUT.value_column)
    assert [len(line) for line in lines] == [58, 6]  # 4.8 pt a character in a 282.7 pt column


def test_a_name_the_standard_fonts_cannot_show_goes_through_weasyprint() -> None:
    audit = dataclasses.replace(AUDIT, signer_name="Иван Петров", identification="« Иван Петров »")
    assert audit_page.render(CONTRACT, audit) is None
    reader, text = read(DocumentRenderer().audit_page(CONTRACT, audit))
    assert len(reader.pages) == 1
    assert "Иван Петров" in text and "Page d'audit de la signature" in text


def test_what_would_not_fit_on_the_page_goes_through_weasyprint() -> None:
    assert audit_page.render(CONTRACT, dataclasses.replace(AUDIT, user_agent="word " * 2000)) is None
