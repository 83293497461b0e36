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
