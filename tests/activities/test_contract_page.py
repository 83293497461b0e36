"""The contract to review written with pydyf says what contract.html says, readable by text
extraction, keeps the blank where the buyer signs, and never loses a character: what WinAnsi
cannot show, or one page cannot hold, goes through WeasyPrint."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from activities import contract_page, fixed_layout
from activities.documents import DocumentRenderer
from activities.docusign_client import SIGN_HERE_ANCHOR
from tests.activities.test_audit_page import A4, read
from tests.activities.test_documents import CONTRACT

REMOTE = "depuis l'envoi de la proposition."
FACE_TO_FACE = "à la signature, comme attesté sur l'écran du vendeur."
BARE = {
    **CONTRACT,
    "in_person": True,
    "iban_masked": None,
    "account_holder": None,
    "dealer": {**CONTRACT["dealer"], "address": None, "phone": "", "email": None},
}


def written(contract: dict[str, Any]) -> bytes:
    pdf = contract_page.render(contract)
    assert pdf is not None  # written directly, not the WeasyPrint fallback
    return pdf


def flat(pdf: bytes) -> str:
    return " ".join(read(pdf)[1].split())


def leaves(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif not isinstance(value, bool):
        yield str(value)


def test_one_a4_page_with_every_datum_readable() -> None:
    reader, text = read(written(CONTRACT))
    [page] = reader.pages
    assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4, abs=0.01)
    assert reader.metadata is not None and reader.metadata.title == "Contrat CF0012345678"
    shown = " ".join(text.split())
    for datum in leaves(CONTRACT):
        assert datum in shown, datum
    for expected in (
        "Proposition de contrat n° CF0012345678",
        "Extension de garantie 24 mois — proposé par Garage des Tilleuls",
        "Nom Marie Curie",
        "Adresse 1 rue Pierre et Marie Curie, 75005 Paris",
        "IBAN (prélèvement) FR76 **** **** **** **** ***0 189 — titulaire : Marie Curie",
        "Marque et modèle Peugeot 308",
        "Produit Extension de garantie 24 mois (code GAR24)",
        "Durée 24 mois",
        "Prix TTC 499,00 €",
        "Vendeur Paul Vendeur (paul@garage.example)",
        REMOTE,
    ):
        assert expected in shown, expected
    assert FACE_TO_FACE not in shown
    assert text.rstrip().endswith("Page 1 / 1")  # the footer


@pytest.mark.parametrize("contract", [CONTRACT, BARE], ids=["remote", "in person, optional rows unset"])
def test_the_text_is_the_templates(contract: dict[str, Any]) -> None:
    """Word for word what WeasyPrint's rendering of contract.html reads: editing the template
    without this page (or the other way round) fails here."""
    weasyprint = DocumentRenderer()._pdf("contract.html", {"c": contract})
    assert flat(written(contract)) == flat(weasyprint)


@pytest.mark.parametrize(
    ("in_person", "said", "not_said"), [(False, REMOTE, FACE_TO_FACE), (True, FACE_TO_FACE, REMOTE)]
)
def test_the_attestation_says_how_the_contract_is_signed(in_person: bool, said: str, not_said: str) -> None:
    shown = flat(written({**CONTRACT, "in_person": in_person}))
    assert said in shown and not_said not in shown


def test_optional_rows_are_left_out_when_unset() -> None:
    shown = flat(written(BARE))
    for absent in ("IBAN", "titulaire", "FR76", "12 av. des Tilleuls", "Téléphone 01", "g@example.com"):
        assert absent not in shown, absent
    assert shown.count("Adresse") == 1 and shown.count("Email") == 1  # the buyer's only
    assert "Téléphone portable +33612345678" in shown and "Concession Garage des Tilleuls Vendeur" in shown


def test_docusign_anchor_has_the_blank_for_the_signature_under_it() -> None:
    assert SIGN_HERE_ANCHOR.encode("cp1252") == contract_page.SIGNATURE_LINE
    reader, text = read(written(CONTRACT))
    assert SIGN_HERE_ANCHOR in text.splitlines()  # a line of its own, as DocuSign searches it
    drawn: list[tuple[str, float]] = []
    reader.pages[0].extract_text(visitor_text=lambda t, cm, tm, font, size: drawn.append((t.strip(), tm[5])))
    [anchor_y] = [y for t, y in drawn if t == SIGN_HERE_ANCHOR]
    below = [t for t, y in drawn if t and y < anchor_y]
    assert below == ["Page 1 / 1"]  # nothing but the footer in the signature's blank
    assert anchor_y - contract_page.LAYOUT.bottom > 18 * fixed_layout.MM


def test_long_values_wrap_inside_their_column_and_the_box() -> None:
    contract = {
        **CONTRACT,
        "buyer": {**CONTRACT["buyer"], "address_line1": "Résidence les Tilleuls, bâtiment B, " * 3},
        "vehicle": {**CONTRACT["vehicle"], "vin": "V" * 80},
    }
    reader, text = read(written(contract))
    assert "V" * 30 in text and "Résidence les Tilleuls, bâtiment B," in text
    keys = {f"/{name}": key for key, name in fixed_layout.FONTS.items()}
    layout = contract_page.LAYOUT
    spans: list[tuple[float, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: dict, size: float) -> None:
        if text.strip():
            width = fixed_layout.text_width(text.strip().encode("cp1252"), keys[font["/BaseFont"]], size)
            spans.append((tm[4], tm[4] + width))

    reader.pages[0].extract_text(visitor_text=visit)
    assert len(spans) > 40
    assert all(x >= layout.margin_x and end <= A4[0] - layout.margin_x for x, end in spans)
    values = [end for x, end in spans if x == pytest.approx(layout.value_x)]
    assert len(values) > 20 and max(values) <= layout.value_x + layout.value_column
    boxed = [
        end
        for x, end in spans
        if x == pytest.approx(layout.left + fixed_layout.BORDER_WIDTH + 3 * fixed_layout.MM)
    ]
    assert len(boxed) >= 2 and max(boxed) <= layout.left + layout.width - 3 * fixed_layout.MM


def test_a_name_the_standard_fonts_cannot_show_goes_through_weasyprint() -> None:
    contract = {**CONTRACT, "buyer": {**CONTRACT["buyer"], "first_name": "Иван", "last_name": "Петров"}}
    assert contract_page.render(contract) is None
    reader, text = read(DocumentRenderer().contract(contract))
    assert reader.metadata is not None and str(reader.metadata.producer).startswith("WeasyPrint")
    assert len(reader.pages) == 1 and "Иван Петров" in text and SIGN_HERE_ANCHOR in text


def test_what_would_not_fit_on_one_page_goes_through_weasyprint() -> None:
    long = {
        **CONTRACT,
        "dealer": {**CONTRACT["dealer"], "address": "Zone d'activité des Grands Champs, " * 12},
    }
    assert contract_page.render(long) is None
    reader, text = read(DocumentRenderer().contract(long))
    assert reader.metadata is not None and str(reader.metadata.producer).startswith("WeasyPrint")
    assert len(reader.pages) == 2 and SIGN_HERE_ANCHOR in text


def test_rendering_costs_a_few_milliseconds_of_cpu() -> None:
    renderer = DocumentRenderer()
    renderer.contract(CONTRACT)  # imports and caches warm
    runs = 20
    start = time.process_time()
    for _ in range(runs):
        renderer.contract(CONTRACT)
    written_ms = (time.process_time() - start) / runs * 1000
    start = time.process_time()
    renderer._pdf("contract.html", {"c": CONTRACT})
    weasyprint_ms = (time.process_time() - start) * 1000
    assert written_ms < 20 and written_ms * 10 < weasyprint_ms, (written_ms, weasyprint_ms)
