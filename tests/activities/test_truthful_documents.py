"""Documents and subjects say only what is true: how the proposal was signed, how the signer
was identified, products named as French reads them, no near-empty page."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from types import SimpleNamespace

import pypdf
import pytest

from activities import contract_page
from activities.contract_context import product_context
from activities.documents import DocumentRenderer, SignatureAudit
from activities.email_templates import EmailRenderer
from activities.signing import METHOD_LABELS, identification
from db.documents import sha256_hex
from tests.activities.test_documents import CONTRACT
from workflows.proposal_contract import SignatureAuditData

REMOTE = "depuis l'envoi de la proposition"
FACE_TO_FACE = "à la signature, comme attesté sur l'écran du vendeur"


def pages_of(pdf: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def renderer() -> DocumentRenderer:
    return DocumentRenderer()


@pytest.mark.parametrize(
    ("in_person", "said", "not_said"), [(False, REMOTE, FACE_TO_FACE), (True, FACE_TO_FACE, REMOTE)]
)
def test_the_attestation_says_how_the_contract_is_signed(
    renderer: DocumentRenderer, in_person: bool, said: str, not_said: str
) -> None:
    [page] = pages_of(renderer.contract({**CONTRACT, "in_person": in_person}))  # one page, nothing alone
    assert said in page and not_said not in page
    assert "Signature du souscripteur" in page


def test_no_page_of_a_long_contract_holds_only_the_signature_lines(renderer: DocumentRenderer) -> None:
    long = {
        **CONTRACT,
        "dealer": {**CONTRACT["dealer"], "address": "Zone d'activité des Grands Champs, " * 7},
        "buyer": {**CONTRACT["buyer"], "address_line1": "Résidence les Tilleuls, bâtiment B, " * 7},
        "in_person": False,
    }
    # Two lines too many for the one page written directly: the template lays it out.
    assert contract_page.render(long) is None
    pages = pages_of(renderer.contract(long))
    assert len(pages) == 2  # the case this test is about
    # The attestation travels with the signature line: a last page is never just that line.
    assert all(REMOTE in page for page in pages if "Signature du souscripteur" in page)


PROPOSAL = SimpleNamespace(buyer_mobile="+33 6 12 34 56 78", buyer_email="marie@example.com")


@pytest.mark.parametrize(
    ("method", "says", "never"),
    [
        (
            "local",
            ["nom complet saisi par le signataire", "« Marie Curie »", "Adresse IP du signataire"],
            ["SMS"],
        ),
        (
            "sms_code",
            ["code à usage unique envoyé par SMS au mobile", "se terminant par 78", "écran du vendeur"],
            ["nom complet saisi", "Adresse IP du signataire"],
        ),
        ("docusign", ["Par DocuSign", "Référence DocuSign"], ["SMS", "Adresse IP"]),
    ],
)
def test_the_audit_page_says_how_the_signer_was_identified(
    renderer: DocumentRenderer, method: str, says: list[str], never: list[str]
) -> None:
    reviewed = renderer.contract({**CONTRACT, "in_person": method == "sms_code"})
    data = SignatureAuditData(method=method, signer_name="Marie Curie", ip="203.0.113.7", user_agent="UA/1")
    audit = SignatureAudit(
        signer_name="Marie Curie",
        signed_at=datetime(2026, 7, 14, 8, 30, tzinfo=UTC),
        reviewed_at=None,
        ip="203.0.113.7",
        user_agent="enveloppe abc" if method == "docusign" else "UA/1",
        document_sha256=sha256_hex(reviewed),
        method=METHOD_LABELS[method],
        identification=identification(method, PROPOSAL, data),  # type: ignore[arg-type]
        method_key=method,
    )
    audit_page = pages_of(renderer.signed_contract(reviewed, CONTRACT, audit))[-1]
    for text in says:
        assert text in audit_page, text
    for text in never:
        assert text not in audit_page, text


@pytest.mark.parametrize(
    ("label", "welcome", "sent"),
    [
        (
            "Contrat d'entretien 36 mois",
            "Bienvenue : votre contrat d'entretien 36 mois est actif",
            "Garage Nord vous propose un contrat d'entretien 36 mois",
        ),
        (
            "Extension de garantie 24 mois",
            "Bienvenue : votre extension de garantie 24 mois est active",
            "Garage Nord vous propose une extension de garantie 24 mois",
        ),
        (
            "Sérénité Plus",
            "Bienvenue : votre contrat « Sérénité Plus » est actif",
            "Garage Nord vous propose un contrat « Sérénité Plus »",
        ),
    ],
)
def test_subjects_name_the_product_as_french_reads(label: str, welcome: str, sent: str) -> None:
    env = EmailRenderer().env
    context = {"product": product_context(label), "dealer": {"name": "Garage Nord"}}
    assert " ".join(env.get_template("welcome.subject.txt").render(context).split()) == welcome
    assert " ".join(env.get_template("proposal_sent.subject.txt").render(context).split()) == sent
