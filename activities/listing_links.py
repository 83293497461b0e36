"""The shareable report link `/r/{report_token}`: derived from the inspection id with the secret key.

Derived rather than stored (like the buyer's link, carflow/links.py), so the owner's space
can show it again and an activity can mail it without putting it in workflow history. Only
its SHA-256 is in the database, for lookup. 256 bits of HMAC output: unguessable; rotating
CARFLOW_SECRET_KEY invalidates the links already shared.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from carflow.settings import Settings
from carflow.tokens import hash_token


def report_token(settings: Settings, inspection_id: object) -> str:
    key = settings.secret_key.get_secret_value().encode()
    digest = hmac.new(key, f"inspection-report:{inspection_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def report_token_hash(settings: Settings, inspection_id: object) -> str:
    return hash_token(report_token(settings, inspection_id))


def report_url(settings: Settings, inspection_id: object) -> str:
    return f"{settings.public_url}/r/{report_token(settings, inspection_id)}"


def inspection_reference(inspection_id: object) -> str:
    """The reference printed on the report, e.g. EX0123456789 (from the id: no sequence)."""
    import uuid

    return f"EX{uuid.UUID(str(inspection_id)).int % 10**10:010d}"
