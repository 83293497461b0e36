"""The buyer's link token: derived from the proposal id with the secret key.

Derived rather than stored, so the emailed link can be rebuilt by any activity without
putting the token in workflow history (visible in the Temporal UI). Only its SHA-256 is in
the database, for lookup. Rotating CARFLOW_SECRET_KEY invalidates links already mailed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from carflow.settings import Settings
from carflow.tokens import hash_token


def buyer_token(settings: Settings, proposal_id: object) -> str:
    key = settings.secret_key.get_secret_value().encode()
    digest = hmac.new(key, f"buyer-link:{proposal_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def buyer_token_hash(settings: Settings, proposal_id: object) -> str:
    return hash_token(buyer_token(settings, proposal_id))


def buyer_link(settings: Settings, proposal_id: object) -> str:
    return f"{settings.public_url}/p/{buyer_token(settings, proposal_id)}"
