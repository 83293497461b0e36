"""Buyer bank details: validated with schwifty, stored encrypted, shown masked, never logged."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from carflow.settings import Settings


class InvalidIban(ValueError):
    """The message is safe to show the buyer (French) and never contains the IBAN."""


def normalize_iban(raw: str) -> str:
    try:
        return str(IBAN(raw.strip()).compact)
    except SchwiftyException:
        raise InvalidIban(
            "IBAN invalide : vérifiez les caractères saisis (27 pour un compte français)."
        ) from None


def mask_iban(iban: str) -> str:
    """Country, check digits and the last four: enough to recognise one's account."""
    compact = iban.replace(" ", "")
    hidden = compact[:4] + "*" * (len(compact) - 8) + compact[-4:]
    return " ".join(hidden[i : i + 4] for i in range(0, len(hidden), 4))


class IbanVault:
    """Symmetric encryption keyed by CARFLOW_IBAN_ENCRYPTION_KEY (any string; derived to Fernet)."""

    def __init__(self, settings: Settings) -> None:
        secret = settings.iban_encryption_key.get_secret_value().encode()
        self._fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret).digest()))

    def encrypt(self, iban: str) -> str:
        return self._fernet.encrypt(iban.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ValueError("stored IBAN cannot be decrypted with the current key") from None
