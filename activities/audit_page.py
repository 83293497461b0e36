"""The signed contract's audit page, a fixed-layout one-page A4 PDF written with pydyf: a few
milliseconds of CPU where WeasyPrint takes about 70 for the same page. Its text and look are
those of templates/pdf/audit.html (and _style.html), which stays the fallback: `render` returns
None for text the standard PDF fonts cannot show (outside cp1252) or that would not fit."""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any

import pydyf

from activities.document_templates import paris_time

if TYPE_CHECKING:
    from activities.documents import SignatureAudit

# Advance widths, in 1/1000 em, of the cp1252 bytes 32 to 255 (0 where cp1252 has no character),
# from Adobe's Core 14 AFM files Helvetica.afm and Helvetica-Bold.afm (Copyright (c) 1985, 1987,
# 1989, 1990, 1997 Adobe Systems Incorporated. All Rights Reserved.), as pypdf ships them.
# Helvetica is a trademark of Linotype-Hell AG and/or its subsidiaries.
# The standard 14 fonts carry no width table in the PDF: the viewer's metrics are these ones.
HELVETICA = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 0,
    556, 0, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0,
    0, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 0, 500, 667,
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500,
)  # fmt: skip
HELVETICA_BOLD = (
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 0,
    556, 0, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0,
    0, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 0, 500, 667,
    278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278,
    611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556,
)  # fmt: skip
FONTS = {"F1": "Helvetica", "F2": "Helvetica-Bold", "F3": "Courier"}
WIDTHS = {"F1": HELVETICA, "F2": HELVETICA_BOLD, "F3": (600,) * 224}

# _style.html, in points: A4, page margins 18 mm × 16 mm, inside them the body's default 8 px
# margin; the label column is 38 % of the table plus its cells' padding, as CSS counts it.
MM = 72 / 25.4
PAGE_WIDTH, PAGE_HEIGHT = 210 * MM, 297 * MM
PAGE_MARGIN_X, PAGE_MARGIN_Y = 16 * MM, 18 * MM
LEFT, TOP, BOTTOM = PAGE_MARGIN_X + 6, PAGE_HEIGHT - PAGE_MARGIN_Y - 6, PAGE_MARGIN_Y + 6
CONTENT_WIDTH = PAGE_WIDTH - 2 * LEFT
PAD_X, PAD_Y, RULE_WIDTH = 2 * MM, 1.2 * MM, 0.375
LABEL_COLUMN = 0.38 * CONTENT_WIDTH
VALUE_X = LEFT + LABEL_COLUMN + 3 * PAD_X
VALUE_COLUMN = CONTENT_WIDTH - LABEL_COLUMN - 4 * PAD_X
LINE_HEIGHT = 1.4
INK, BLUE, LABEL_GREY, MUTED, RULE = (
    (0.102,) * 3,
    (0.071, 0.227, 0.353),
    (0.267,) * 3,
    (0.333,) * 3,
    (0.8,) * 3,
)

_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
# French puts a space before ; : » and after «: a line never breaks there.
_GLUED_BEFORE, _GLUED_AFTER = {b";", b":", b"\xbb"}, b"\xab"


def encode(value: object) -> bytes:
    """`value` as one cp1252 line, whitespace collapsed as HTML does; UnicodeEncodeError if it
    has a character WinAnsiEncoding lacks."""
    return " ".join(_CONTROLS.sub(" ", str(value)).split()).encode("cp1252")


def text_width(text: bytes, font: str, size: float) -> float:
    table = WIDTHS[font]
    return sum(table[byte - 32] for byte in text) * size / 1000


def wrap(text: bytes, font: str, size: float, width: float) -> list[bytes]:
    """Lines no wider than `width`, broken at spaces; a word longer than a line (a user agent,
    the hash) is cut between any two characters instead of running off the page."""
    table, scale = WIDTHS[font], size / 1000
    words: list[bytes] = []
    for word in text.split(b" "):
        if words and (word in _GLUED_BEFORE or words[-1].endswith(_GLUED_AFTER)):
            words[-1] += b" " + word
        elif word:
            words.append(word)
    lines: list[bytes] = []
    line = b""
    for word in words:
        joined = line + b" " + word if line else word
        if text_width(joined, font, size) <= width:
            line = joined
            continue
        if text_width(word, font, size) <= width:
            lines.append(line)
            line = word
            continue
        line, used = b"", 0.0  # cut `joined` anywhere, going on from the current line
        for byte in joined:
            advance = table[byte - 32] * scale
            if used + advance > width and line:
                lines.append(line.rstrip(b" "))
                line, used = b"", 0.0
            if line or byte != 32:
                line += bytes((byte,))
                used += advance
    return [*lines, line] if line else lines


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


class _Page:
    def __init__(self) -> None:
        self.stream = pydyf.Stream(compress=True)
        self.top = TOP

    def lines(
        self,
        lines: list[bytes],
        x: float,
        top: float,
        font: str,
        size: float,
        colour: tuple[float, ...],
        strut: float | None = None,
    ) -> float:
        """Draws `lines` from `top` down; returns their height. `strut`: the font size of the
        line boxes when larger than the text's (the 8 pt <code> in a 10 pt cell)."""
        box = strut or size
        leading = box * LINE_HEIGHT
        # The baseline within the line box, as CSS places it (Helvetica: ascent 718, descent 207).
        baseline = top - (leading - 0.925 * box) / 2 - 0.718 * box
        self.stream.begin_text()
        self.stream.set_font_size(font, size)
        self.stream.set_color_rgb(*colour)
        for i, line in enumerate(lines):
            self.stream.set_text_matrix(1, 0, 0, 1, x, baseline - i * leading)
            self.stream.show_text_string(line)  # pydyf escapes \ ( ) in bytes
        self.stream.end_text()
        return len(lines) * leading

    def paragraph(self, text: bytes, font: str, size: float, colour: tuple[float, ...]) -> None:
        self.top -= self.lines(wrap(text, font, size, CONTENT_WIDTH), LEFT, self.top, font, size, colour)

    def row(self, label: bytes, value: bytes, font: str) -> None:
        top = self.top - PAD_Y
        label_height = self.lines(
            wrap(label, "F1", 10, LABEL_COLUMN), LEFT + PAD_X, top, "F1", 10, LABEL_GREY
        )
        size = 8 if font == "F3" else 10  # <code> is 8 pt
        value_lines = wrap(value, font, size, VALUE_COLUMN)
        value_height = self.lines(value_lines, VALUE_X, top, font, size, INK, strut=10)
        self.top = top - max(label_height, value_height) - PAD_Y - RULE_WIDTH
        self.stream.set_color_rgb(*RULE, stroke=True)
        self.stream.set_line_width(RULE_WIDTH)
        self.stream.move_to(LEFT, self.top + RULE_WIDTH / 2)
        self.stream.line_to(LEFT + CONTENT_WIDTH, self.top + RULE_WIDTH / 2)
        self.stream.stroke()


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

    page = _Page()
    page.paragraph(title, "F2", 16, BLUE)
    page.top -= 4 * MM  # h1's margin, which takes in the paragraph's 1 em
    page.paragraph(sentence, "F2", 10, INK)
    page.top -= 10  # the paragraph's 1 em below
    for label, value, font in table:
        page.row(label, value, font)
    page.top -= 8.5  # .muted's 1 em above
    page.paragraph(closing_text, "F1", 8.5, MUTED)
    if page.top < BOTTOM:
        return None
    footer = b"Page d'audit"
    page.lines(
        [footer],
        PAGE_WIDTH - PAGE_MARGIN_X - text_width(footer, "F1", 8),
        (PAGE_MARGIN_Y + 8 * LINE_HEIGHT) / 2,  # centred in the bottom margin
        "F1",
        8,
        MUTED,
    )

    pdf = pydyf.PDF()
    fonts = pydyf.Dictionary()
    for key, base in FONTS.items():
        font_dict = pydyf.Dictionary(
            {"Type": "/Font", "Subtype": "/Type1", "BaseFont": f"/{base}", "Encoding": "/WinAnsiEncoding"}
        )
        pdf.add_object(font_dict)
        fonts[key] = font_dict.reference
    pdf.add_object(page.stream)
    pdf.add_page(
        pydyf.Dictionary(
            {
                "Type": "/Page",
                "Parent": pdf.pages.reference,
                "MediaBox": pydyf.Array([0, 0, PAGE_WIDTH, PAGE_HEIGHT]),
                "Contents": page.stream.reference,
                "Resources": pydyf.Dictionary({"Font": fonts}),
            }
        )
    )
    pdf.info["Title"] = pydyf.String(f"Audit de la signature du contrat {number}")
    out = io.BytesIO()
    pdf.write(out)
    return out.getvalue()
