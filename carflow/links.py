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

from carflow.settings import Settings
from carflow.tokens import hash_token


def _derived_token(settings: Settings, purpose: str, ident: object) -> str:
    key = settings.secret_key.get_secret_value().encode()
    digest = hmac.new(key, f"{purpose}:{ident}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# --- the buyer's link --------------------------------------------------------------------------


def buyer_token(settings: Settings, proposal_id: object) -> str:
    return _derived_token(settings, "buyer-link", proposal_id)


def buyer_token_hash(settings: Settings, proposal_id: object) -> str:
    return hash_token(buyer_token(settings, proposal_id))


def buyer_page_url(settings: Settings, token: str) -> str:
    return f"{settings.public_url}/p/{token}"


def buyer_link(settings: Settings, proposal_id: object) -> str:
    return buyer_page_url(settings, buyer_token(settings, proposal_id))


# --- the inspection report ---------------------------------------------------------------------


def report_token(settings: Settings, inspection_id: object) -> str:
    return _derived_token(settings, "inspection-report", inspection_id)


def report_token_hash(settings: Settings, inspection_id: object) -> str:
    return hash_token(report_token(settings, inspection_id))


def report_url(settings: Settings, inspection_id: object) -> str:
    return f"{settings.public_url}/r/{report_token(settings, inspection_id)}"


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
