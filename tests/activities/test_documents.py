"""Contract PDFs carry every contract datum; the signed one adds a verifiable audit page."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pypdf
import pytest

from activities.documents import DocumentRenderer, SignatureAudit
from db.documents import DocumentStore, sha256_hex

CONTRACT = {
    "in_person": False,
    "contract_number": "CF0012345678",
    "product_label": "Extension de garantie 24 mois",
    "product_code": "GAR24",
    "kind_label": "Assurance (extension de garantie panne mécanique)",
    "duration_months": 24,
    "price": "499,00 €",
    "withdrawal_rule": "30 jours (article L112-10 du Code des assurances)",
    "buyer": {
        "first_name": "Marie",
        "last_name": "Curie",
        "address_line1": "1 rue Pierre et Marie Curie",
        "postal_code": "75005",
        "city": "Paris",
        "email": "marie@example.com",
        "mobile": "+33612345678",
    },
    "vehicle": {
        "make": "Peugeot",
        "model": "308",
        "registration": "AB-123-CD",
        "vin": "VF3LCYHZPHS123456",
        "first_registration": "01/03/2021",
        "mileage": "42 000 km",
    },
    "dealer": {
        "name": "Garage des Tilleuls",
        "address": "12 av. des Tilleuls, Lyon",
        "phone": "01 23 45 67 89",
        "email": "g@example.com",
    },
    "seller": {"name": "Paul Vendeur", "email": "paul@garage.example"},
    "iban_masked": "FR76 **** **** **** **** ***0 189",
    "account_holder": "Marie Curie",
}


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture(scope="module")
def renderer() -> DocumentRenderer:
    return DocumentRenderer()


def test_contract_pdf_holds_every_contract_datum(renderer: DocumentRenderer) -> None:
    pdf = renderer.contract(CONTRACT)
    assert pdf.startswith(b"%PDF")
    text = text_of(pdf)
    for expected in (
        "CF0012345678",
        "Marie Curie",
        "Peugeot 308",
        "AB-123-CD",
        "VF3LCYHZPHS123456",
        "Extension de garantie 24 mois",
        "499,00 €",
        "24 mois",
        "Garage des Tilleuls",
        "Paul Vendeur",
        "FR76 **** ****",
        "30 jours",
    ):
        assert expected in text, expected
    assert "Page d'audit" not in text


def test_signed_contract_is_the_reviewed_bytes_plus_an_audit_page(renderer: DocumentRenderer) -> None:
    reviewed = renderer.contract(CONTRACT)
    audit = SignatureAudit(
        signer_name="Marie Curie",
        signed_at=datetime(2026, 7, 14, 8, 30, tzinfo=UTC),
        reviewed_at=datetime(2026, 7, 14, 8, 25, tzinfo=UTC),
        ip="203.0.113.7",
        user_agent="Mozilla/5.0 (iPhone)",
        document_sha256=sha256_hex(reviewed),
    )
    signed = renderer.signed_contract(reviewed, CONTRACT, audit)
    before, after = pypdf.PdfReader(io.BytesIO(reviewed)), pypdf.PdfReader(io.BytesIO(signed))
    assert len(after.pages) == len(before.pages) + 1
    # The pages the buyer reviewed are in the signed PDF as they were, content stream for stream.
    for original, kept in zip(before.pages, after.pages, strict=False):
        assert kept.get_contents().get_data() == original.get_contents().get_data()
        assert kept.mediabox == original.mediabox
    audit_text = after.pages[-1].extract_text()
    assert "Page d'audit de la signature" in audit_text and "Page d'audit" not in text_of(reviewed)
    printed = re.findall(r"[0-9a-f]{64}", audit_text.replace("\n", ""))
    assert printed == [hashlib.sha256(reviewed).hexdigest()]  # the digest of the exact reviewed bytes
    assert "signé électroniquement par Marie Curie" in audit_text.replace("\n", " ")
    assert "14/07/2026 10:30:00 (heure de Paris)" in audit_text  # UTC+2 in summer
    assert "14/07/2026 10:25:00" in audit_text
    assert "203.0.113.7" in audit_text and "Mozilla/5.0 (iPhone)" in audit_text


@pytest.mark.parametrize(("kind", "expected"), [("service", "14 jours"), ("insurance", "30 jours")])
def test_general_conditions_per_kind(renderer: DocumentRenderer, kind: str, expected: str) -> None:
    text = text_of(renderer.general_conditions(kind))
    assert "Conditions générales" in text
    assert expected in text


def test_unknown_kind_is_refused(renderer: DocumentRenderer) -> None:
    with pytest.raises(ValueError, match="unknown product kind"):
        renderer.general_conditions("leasing")


def test_store_is_content_addressed_and_safe(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "documents")
    digest = store.put(b"%PDF-1.7 hello")
    assert digest == sha256_hex(b"%PDF-1.7 hello")
    assert store.put(b"%PDF-1.7 hello") == digest  # same content, same name, stored once
    assert store.get(digest) == b"%PDF-1.7 hello"
    assert store.get("0" * 64) is None
    assert store.get("../../etc/passwd") is None
    assert len(list((tmp_path / "documents").rglob("*.pdf"))) == 1


def test_named_documents_point_at_their_digest(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path / "documents")
    assert store.name("conditions-service-abc") is None
    digest = store.put_named("conditions-service-abc", b"%PDF-1.7 cg")
    assert store.name("conditions-service-abc") == digest == sha256_hex(b"%PDF-1.7 cg")
    with pytest.raises(ValueError):
        store.name("../escape")
