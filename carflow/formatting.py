"""French formatting, in one place: the Paris time zone, dates, amounts, vehicle titles.

What pages, emails and documents show a buyer or an owner: "05/03/2025", "12 900 €",
"45 000 km", with the narrow no-break space French uses between thousands.
(`statemachines/deadlines.py` keeps its own zone: the machines import nothing of ours.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def french_date(moment: datetime | None) -> str:
    """ "05/03/2025" in Paris time; "" for no date."""
    return moment.astimezone(PARIS).strftime("%d/%m/%Y") if moment else ""


def french_datetime(moment: datetime | None) -> str:
    """ "05/03/2025 à 14:30" in Paris time; "" for no date."""
    return moment.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M") if moment else ""


def thousands(value: int) -> str:
    """ "45 000": thousands separated by a narrow no-break space."""
    return f"{value:,}".replace(",", "\u202f")


def euros(cents: int, *, always_cents: bool = False) -> str:
    """An amount in euros: "12 500 €", "12 500,50 €"; "499,00 €" with `always_cents`.

    Contracts and proposals always print the cents; listings drop ",00" for whole euros.
    """
    whole, rest = divmod(cents, 100)
    if rest == 0 and not always_cents:
        return f"{thousands(whole)} €"
    return f"{thousands(whole)},{rest:02d} €"


class _Vehicle(Protocol):
    vehicle_make: str
    vehicle_model: str
    vehicle_version: str | None


def vehicle_title(vehicle: _Vehicle) -> str:
    """ "Peugeot 308 1.2 PureTech": make, model and version when there is one."""
    parts = [vehicle.vehicle_make, vehicle.vehicle_model, vehicle.vehicle_version or ""]
    return " ".join(p for p in parts if p)


# A proposal's state as the dealer's pages say it (the machine's states, statemachines/proposal.py;
# the kernel imports nothing of ours, so the keys are the states' values). One place for
# every page and email that names a state.
PROPOSAL_STATE_LABELS: dict[str, str] = {
    "draft": "Brouillon / devis",
    "sent": "Envoyée",
    "viewed": "Consultée",
    "signing": "Signature en cours",
    "signed": "Signée",
    "binding": "Contrat définitif",
    "expired": "Expirée",
    "withdrawn": "Rétractée",
    "declined": "Refusée",
    "cancelled": "Annulée",
}


def proposal_state_label(state: str) -> str:
    """ "Envoyée" for `sent`; an unknown state is shown as it is rather than hidden."""
    return PROPOSAL_STATE_LABELS.get(state, state)
