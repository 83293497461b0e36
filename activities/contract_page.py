"""The contract to review, a fixed-layout one-page A4 PDF written with pydyf
(activities/fixed_layout.py): about a millisecond of CPU where WeasyPrint takes about 300, on the
buyer's "accept". Its text and look are those of templates/pdf/contract.html (and _style.html),
which stays the fallback: `render` returns None for text the standard PDF fonts cannot show
(outside cp1252) or a contract that would not fit on one page."""

from __future__ import annotations

from typing import Any

from activities.fixed_layout import BLUE, BORDER_WIDTH, INK, MM, MUTED, Layout, Page, encode

# contract.html: page margins 14 mm × 16 mm, line height 1.3, cells padded 0.8 mm × 2 mm.
LAYOUT = Layout(margin_x=16 * MM, margin_y=14 * MM, line_height=1.3, pad_x=2 * MM, pad_y=0.8 * MM)
# DocuSign places the buyer's signature under this text (docusign_client.SIGN_HERE_ANCHOR, not
# imported: that module loads the DocuSign SDK).
SIGNATURE_LINE = b"Signature du souscripteur :"


def attestation(contract: dict[str, Any]) -> str:
    """What the buyer attests, per whether the contract is signed at the dealer's."""
    since = (
        "à la signature, comme attesté sur l'écran du vendeur."
        if contract["in_person"]
        else "depuis l'envoi de la proposition."
    )
    return (
        "Le souscripteur déclare avoir pris connaissance des conditions générales du produit, jointes "
        "au présent contrat, et atteste qu'aucun sinistre n'est survenu sur le véhicule " + since
    )


def sections(contract: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """(heading, its (label, value) rows) as in contract.html, optional rows only when set."""
    buyer, vehicle, dealer, seller = (contract[key] for key in ("buyer", "vehicle", "dealer", "seller"))
    subscriber = [
        ("Nom", f"{buyer['first_name']} {buyer['last_name']}"),
        ("Adresse", f"{buyer['address_line1']}, {buyer['postal_code']} {buyer['city']}"),
        ("Email", buyer["email"]),
        ("Téléphone portable", buyer["mobile"]),
    ]
    if contract["iban_masked"]:
        subscriber.append(
            ("IBAN (prélèvement)", f"{contract['iban_masked']} — titulaire : {contract['account_holder']}")
        )
    distributor = [("Concession", dealer["name"])]
    for key, label in (("address", "Adresse"), ("phone", "Téléphone"), ("email", "Email")):
        if dealer[key]:
            distributor.append((label, dealer[key]))
    distributor.append(("Vendeur", f"{seller['name']} ({seller['email']})"))
    return [
        ("Souscripteur", subscriber),
        (
            "Véhicule",
            [
                ("Marque et modèle", f"{vehicle['make']} {vehicle['model']}"),
                ("Immatriculation", vehicle["registration"]),
                ("VIN", vehicle["vin"]),
                ("Première mise en circulation", vehicle["first_registration"]),
                ("Kilométrage", vehicle["mileage"]),
            ],
        ),
        (
            "Produit",
            [
                ("Produit", f"{contract['product_label']} (code {contract['product_code']})"),
                ("Nature", contract["kind_label"]),
                ("Durée", f"{contract['duration_months']} mois"),
                ("Prix TTC", contract["price"]),
                ("Délai de rétractation", contract["withdrawal_rule"]),
            ],
        ),
        ("Distributeur", distributor),
    ]


def render(contract: dict[str, Any]) -> bytes | None:
    """The contract to review as a PDF, or None when only WeasyPrint can lay it out."""
    number = contract["contract_number"]
    try:
        title = encode(f"Proposition de contrat n° {number}")
        subtitle = encode(f"{contract['product_label']} — proposé par {contract['dealer']['name']}")
        tables = [
            (encode(heading), [(encode(label), encode(value)) for label, value in rows])
            for heading, rows in sections(contract)
        ]
        attested = encode(attestation(contract))
    except UnicodeEncodeError:
        return None

    page = Page(LAYOUT)
    page.paragraph(title, "F2", 16, BLUE)
    page.top -= 4 * MM  # h1's margin, which takes in the subtitle's 1 em
    page.paragraph(subtitle, "F1", 8.5, MUTED)
    for heading, rows in tables:
        page.top -= 3.5 * MM  # h2's margin (the subtitle's 1 em, less, collapses into it)
        page.paragraph(heading, "F2", 11.5, BLUE)
        page.top -= 1 * MM  # h2's padding above its border
        page.rule(BORDER_WIDTH, BLUE)
        page.top -= 1.5 * MM
        for label, value in rows:
            page.row(label, value)
    page.top -= 3 * MM  # .box's margin
    page.box(attested, "F1", 10, INK, 3 * MM, BLUE)
    page.top -= 5 * MM  # the signature line's margin, which takes in the box's 1 em
    page.paragraph(SIGNATURE_LINE, "F1", 10, INK)
    page.top -= 10 + 18 * MM  # the line's 1 em, then the blank where the buyer signs
    # A second page, and keeping the attestation with the signature line across it (.signature),
    # is WeasyPrint's job.
    return page.finished(b"Page 1 / 1", f"Contrat {number}", lang="fr")
