"""One-page A4 PDFs written directly with pydyf in the standard fonts, laid out as
templates/pdf/_style.html lays out a page: a millisecond or two of CPU where WeasyPrint takes
tens to hundreds. What the audit page (audit_page.py) and the contract to review
(contract_page.py) share; each keeps its template as the fallback for what these fonts cannot
show (outside cp1252) or what would not fit on the page."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pydyf

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

# _style.html, in points (1 px = 0.75 pt): A4; inside the page margins, the body's default
# 8 px margin; rules of 0.5 px between table rows, borders of 1 px.
MM = 72 / 25.4
PAGE_WIDTH, PAGE_HEIGHT = 210 * MM, 297 * MM
BODY_MARGIN = 6
RULE_WIDTH, BORDER_WIDTH = 0.375, 0.75
INK, BLUE, LABEL_GREY, MUTED, RULE = (
    (0.102,) * 3,
    (0.071, 0.227, 0.353),
    (0.267,) * 3,
    (0.333,) * 3,
    (0.8,) * 3,
)
Colour = tuple[float, ...]

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


@dataclass(frozen=True)
class Layout:
    """A page's geometry as its stylesheet sets it: @page margins, the body's line height, the
    padding of table cells; tables are label/value rows, the label column 38 % of the table
    (as CSS counts it: its cells' padding comes on top)."""

    margin_x: float
    margin_y: float
    line_height: float
    pad_x: float
    pad_y: float

    @property
    def left(self) -> float:
        return self.margin_x + BODY_MARGIN

    @property
    def top(self) -> float:
        return PAGE_HEIGHT - self.margin_y - BODY_MARGIN

    @property
    def bottom(self) -> float:
        return self.margin_y + BODY_MARGIN

    @property
    def width(self) -> float:
        return PAGE_WIDTH - 2 * self.left

    @property
    def label_column(self) -> float:
        return 0.38 * self.width

    @property
    def value_x(self) -> float:
        return self.left + self.label_column + 3 * self.pad_x

    @property
    def value_column(self) -> float:
        return self.width - self.label_column - 4 * self.pad_x


class Page:
    """One page drawn from the top down: `top` is where the next block starts."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.stream = pydyf.Stream(compress=True)
        self.top = layout.top

    def lines(
        self,
        lines: list[bytes],
        x: float,
        top: float,
        font: str,
        size: float,
        colour: Colour,
        strut: float | None = None,
    ) -> float:
        """Draws `lines` from `top` down; returns their height. `strut`: the font size of the
        line boxes when larger than the text's (the 8 pt <code> in a 10 pt cell)."""
        box = strut or size
        leading = box * self.layout.line_height
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

    def paragraph(self, text: bytes, font: str, size: float, colour: Colour) -> None:
        left, width = self.layout.left, self.layout.width
        self.top -= self.lines(wrap(text, font, size, width), left, self.top, font, size, colour)

    def rule(self, width: float, colour: Colour) -> None:
        """A border-bottom `width` thick under `top`, across the content."""
        left = self.layout.left
        self.top -= width
        self.stream.set_color_rgb(*colour, stroke=True)
        self.stream.set_line_width(width)
        self.stream.move_to(left, self.top + width / 2)
        self.stream.line_to(left + self.layout.width, self.top + width / 2)
        self.stream.stroke()

    def row(self, label: bytes, value: bytes, font: str = "F1") -> None:
        layout = self.layout
        top = self.top - layout.pad_y
        label_height = self.lines(
            wrap(label, "F1", 10, layout.label_column), layout.left + layout.pad_x, top, "F1", 10, LABEL_GREY
        )
        size = 8 if font == "F3" else 10  # <code> is 8 pt
        value_lines = wrap(value, font, size, layout.value_column)
        value_height = self.lines(value_lines, layout.value_x, top, font, size, INK, strut=10)
        self.top = top - max(label_height, value_height) - layout.pad_y
        self.rule(RULE_WIDTH, RULE)

    def box(
        self, text: bytes, font: str, size: float, colour: Colour, padding: float, border: Colour
    ) -> None:
        """A paragraph inside a 1 px border, `padding` away from it, across the content."""
        inset = BORDER_WIDTH + padding
        left, width = self.layout.left, self.layout.width
        lines = wrap(text, font, size, width - 2 * inset)
        height = self.lines(lines, left + inset, self.top - inset, font, size, colour) + 2 * inset
        half = BORDER_WIDTH / 2
        self.stream.set_color_rgb(*border, stroke=True)
        self.stream.set_line_width(BORDER_WIDTH)
        self.stream.rectangle(
            left + half, self.top - height + half, width - BORDER_WIDTH, height - BORDER_WIDTH
        )
        self.stream.stroke()
        self.top -= height

    def footer(self, text: bytes, size: float = 8, colour: Colour = MUTED) -> None:
        """`text` at the right of the bottom margin, centred in it (@bottom-right)."""
        layout = self.layout
        self.lines(
            [text],
            PAGE_WIDTH - layout.margin_x - text_width(text, "F1", size),
            (layout.margin_y + size * layout.line_height) / 2,
            "F1",
            size,
            colour,
        )

    def finished(self, footer: bytes, title: str, lang: str | None = None) -> bytes | None:
        """The page with its footer as a PDF, or None when what was drawn ran past the bottom
        margin (the caller's template, which can break pages, lays it out instead)."""
        if self.top < self.layout.bottom:
            return None
        self.footer(footer)
        return self.pdf(title, lang)

    def pdf(self, title: str, lang: str | None = None) -> bytes:
        """The PDF of this page alone, in the standard fonts (no font file embedded)."""
        pdf = pydyf.PDF()
        fonts = pydyf.Dictionary()
        for key, base in FONTS.items():
            font_dict = pydyf.Dictionary(
                {"Type": "/Font", "Subtype": "/Type1", "BaseFont": f"/{base}", "Encoding": "/WinAnsiEncoding"}
            )
            pdf.add_object(font_dict)
            fonts[key] = font_dict.reference
        pdf.add_object(self.stream)
        pdf.add_page(
            pydyf.Dictionary(
                {
                    "Type": "/Page",
                    "Parent": pdf.pages.reference,
                    "MediaBox": pydyf.Array([0, 0, PAGE_WIDTH, PAGE_HEIGHT]),
                    "Contents": self.stream.reference,
                    "Resources": pydyf.Dictionary({"Font": fonts}),
                }
            )
        )
        pdf.info["Title"] = pydyf.String(title)
        if lang:
            pdf.catalog["Lang"] = pydyf.String(lang)
        out = io.BytesIO()
        pdf.write(out)
        return out.getvalue()
