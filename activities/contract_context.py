"""One proposal's contract data as documents and emails show it (French formats)."""

from __future__ import annotations

from typing import Any

from carflow.formatting import euros, thousands
from db.models import Dealer, Proposal
from statemachines.deadlines import WITHDRAWAL_RULES

LEGAL_BASIS_FR = {
    "service": "article L221-18 du Code de la consommation",
    "insurance": "article L112-10 du Code des assurances",
}
KIND_LABELS = {
    "service": "Contrat de service (entretien)",
    "insurance": "Assurance (extension de garantie panne mécanique)",
}


# The nouns a product label starts with, and their gender, so that subjects read naturally:
# "votre contrat d'entretien 36 mois est actif", "une extension de garantie 24 mois".
PRODUCT_NOUNS = {
    "contrat": False,
    "entretien": False,
    "forfait": False,
    "pack": False,
    "plan": False,
    "programme": False,
    "service": False,
    "assurance": True,
    "couverture": True,
    "extension": True,
    "formule": True,
    "garantie": True,
    "offre": True,
    "protection": True,
}


def product_context(label: str) -> dict[str, str]:
    """A product label as a noun phrase in a sentence, with its article and agreement.

    A label that does not start with a known noun (a brand name) is named as a contract:
    "contrat « Sérénité Plus »".
    """
    first, _, rest = label.strip().partition(" ")
    noun = first.casefold()
    if noun in PRODUCT_NOUNS and first[1:] == first[1:].lower():
        phrase, feminine = f"{noun} {rest}".strip(), PRODUCT_NOUNS[noun]
    else:
        phrase, feminine = f"contrat « {label.strip()} »", False
    return {
        "phrase": phrase,
        "a": "une" if feminine else "un",
        "active": "active" if feminine else "actif",
    }


def contract_context(proposal: Proposal, dealer: Dealer, *, in_person: bool = False) -> dict[str, Any]:
    """`in_person`: signed face to face at the dealer's (what the attestation says depends on it)."""
    rule = WITHDRAWAL_RULES[proposal.product_kind]
    return {
        "in_person": in_person,
        "contract_number": proposal.contract_number,
        "product_label": proposal.product_label,
        "product_code": proposal.product_code,
        "kind_label": KIND_LABELS.get(proposal.product_kind, proposal.product_kind),
        "duration_months": proposal.duration_months,
        "price": euros(proposal.price_cents, always_cents=True),
        "withdrawal_rule": f"{rule.days} jours ({LEGAL_BASIS_FR[proposal.product_kind]})",
        "buyer": {
            "first_name": proposal.buyer_first_name,
            "last_name": proposal.buyer_last_name,
            "address_line1": proposal.buyer_address_line1,
            "postal_code": proposal.buyer_postal_code,
            "city": proposal.buyer_city,
            "email": proposal.buyer_email,
            "mobile": proposal.buyer_mobile,
        },
        "vehicle": {
            "make": proposal.vehicle_make,
            "model": proposal.vehicle_model,
            "registration": proposal.vehicle_registration,
            "vin": proposal.vehicle_vin,
            "first_registration": proposal.vehicle_first_registration.strftime("%d/%m/%Y"),
            "mileage": f"{thousands(proposal.vehicle_mileage_km)} km",
        },
        "dealer": {
            "name": dealer.name,
            "address": dealer.address,
            "phone": dealer.phone,
            "email": dealer.email,
        },
        "seller": {"name": proposal.seller_name, "email": proposal.seller_email},
        "iban_masked": proposal.iban_masked,
        "account_holder": proposal.account_holder,
    }


def parties_context(proposal: Proposal, dealer: Dealer) -> dict[str, Any]:
    """Who the buyer deals with, as the proposal emails and the buyer's pages name them."""
    return {
        "buyer_name": f"{proposal.buyer_first_name} {proposal.buyer_last_name}",
        "dealer": {
            "name": dealer.name,
            "email": dealer.email,
            "phone": dealer.phone,
            "address": dealer.address,
        },
        "seller": {
            "name": proposal.seller_name,
            "email": proposal.seller_email,
            "phone": proposal.seller_phone,
        },
    }
