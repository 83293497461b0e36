"""Every link Carflow mails or shows: the capability tokens, and the absolute URLs.

The buyer's link `/p/{token}` and the shareable report `/r/{report_token}` carry a token
derived from the proposal or inspection id with the secret key. Derived rather than stored,
so the emailed link can be rebuilt by any activity (and the owner's space can show the
report link again) without putting the token in workflow history (visible in the Temporal
UI). Only its SHA-256 is in the database, for lookup. 256 bits of HMAC output: unguessable;
rotating CARFLOW_SECRET_KEY invalidates the links already mailed or shared.

Absolute URLs start with CARFLOW_PUBLIC_URL (`Settings.public_url`): links in mails must
work from the recipient's mailbox.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from urllib.parse import quote

from carflow.settings import Settings
from carflow.tokens import hash_token


@dataclass(frozen=True)
class DerivedLink:
    """A capability link `{public_url}{path}/{token}` whose token is derived from an id."""

    purpose: str  # mixed into the HMAC: a buyer's token never opens a report, nor the reverse
    path: str

    def token(self, settings: Settings, ident: object) -> str:
        key = settings.secret_key.get_secret_value().encode()
        digest = hmac.new(key, f"{self.purpose}:{ident}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def token_hash(self, settings: Settings, ident: object) -> str:
        """What the database keeps, to find the row a token opens."""
        return hash_token(self.token(settings, ident))

    def url_of(self, settings: Settings, token: str) -> str:
        return f"{settings.public_url}{self.path}/{token}"

    def url(self, settings: Settings, ident: object) -> str:
        return self.url_of(settings, self.token(settings, ident))


BUYER_LINK = DerivedLink("buyer-link", "/p")
REPORT_LINK = DerivedLink("inspection-report", "/r")

# --- the buyer's link --------------------------------------------------------------------------

buyer_token = BUYER_LINK.token
buyer_token_hash = BUYER_LINK.token_hash
buyer_page_url = BUYER_LINK.url_of
buyer_link = BUYER_LINK.url

# --- the inspection report ---------------------------------------------------------------------

report_token = REPORT_LINK.token
report_token_hash = REPORT_LINK.token_hash
report_url = REPORT_LINK.url


def inspection_reference(inspection_id: object) -> str:
    """The reference printed on the report, e.g. EX0123456789 (from the id: no sequence)."""
    return f"EX{uuid.UUID(str(inspection_id)).int % 10**10:010d}"


# --- listings and the owner's space ------------------------------------------------------------


def public_listing_url(settings: Settings, listing_id: object) -> str:
    return f"{settings.public_url}/annonces/{listing_id}"


def owner_listing_url(settings: Settings, listing_id: object) -> str:
    """The listing's page in the owner's space."""
    return f"{settings.public_url}/espace/annonces/{listing_id}"


def owner_login_url(settings: Settings) -> str:
    return f"{settings.public_url}/espace/connexion"


def owner_forgot_password_url(settings: Settings) -> str:
    return f"{settings.public_url}/espace/mot-de-passe-oublie"


def owner_password_reset_url(settings: Settings, token: str) -> str:
    return f"{settings.public_url}/espace/mot-de-passe/{token}"


# --- the dealer's web app (issue 13) -------------------------------------------------------------


def dealer_login_url(settings: Settings) -> str:
    return f"{settings.public_url}/vendeur/connexion"


def dealer_password_url(settings: Settings, token: str) -> str:
    """The one-time link to choose a password: printed by `carflow dealer user add`, or emailed."""
    return f"{settings.public_url}/vendeur/mot-de-passe/{token}"


def adv_mailto(settings: Settings, contract_number: str | None = None, problem: str | None = None) -> str:
    """A mailto to ADV (CARFLOW_ADV_EMAIL) with the subject and body the seed asks dealers to
    send: the contract number, and what went wrong."""
    subject = f"Contrat {contract_number} : signalement" if contract_number else "Signalement Carflow"
    lines = ["Bonjour,", ""]
    if contract_number:
        lines.append(f"Numéro de contrat : {contract_number}")
    if problem:
        lines.append(f"Problème rencontré : {problem}")
    lines += ["", "Cordialement,"]
    return f"mailto:{settings.adv_email}?subject={quote(subject)}&body={quote(chr(10).join(lines))}"
