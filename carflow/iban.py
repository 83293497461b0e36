"""Buyer bank details: validated with schwifty, stored encrypted, shown masked, never logged."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from schwifty import IBAN
from schwifty.exceptions import (
    InvalidBBANChecksum,
    InvalidChecksumDigits,
    InvalidCountryCode,
    InvalidLength,
    SchwiftyException,
)
from schwifty.registry import get_iban_spec

from carflow.settings import Settings


class InvalidIban(ValueError):
    """The message is safe to show the buyer (French) and never contains the IBAN."""


def normalize_iban(raw: str) -> str:
    """The IBAN in compact form, or InvalidIban saying precisely what is wrong with it.

    Only SEPA accounts can be debited by a SEPA mandate, so a valid IBAN of another country
    is refused too.
    """
    compact = "".join(raw.split()).upper()
    if not compact:
        raise InvalidIban("Indiquez l'IBAN du compte à prélever.")
    if not compact.isalnum() or not compact.isascii():
        raise InvalidIban(
            "IBAN invalide : il ne contient que des lettres et des chiffres (les espaces sont acceptés)."
        )
    try:
        iban = IBAN(compact)
    except InvalidCountryCode:
        raise InvalidIban(
            "IBAN invalide : il commence par les deux lettres du pays de la banque (FR pour la France)."
        ) from None
    except InvalidLength:
        expected = _length(compact[:2])
        raise InvalidIban(
            f"IBAN invalide : {len(compact)} caractères saisis, un IBAN de ce pays en compte {expected}."
            if expected
            else "IBAN invalide : sa longueur ne correspond pas à celle d'un IBAN."
        ) from None
    except (InvalidChecksumDigits, InvalidBBANChecksum):
        raise InvalidIban(
            "IBAN invalide : sa clé de contrôle ne correspond pas. Vérifiez chaque caractère saisi."
        ) from None
    except SchwiftyException:
        raise InvalidIban(
            "IBAN invalide : vérifiez les caractères saisis (27 pour un compte français)."
        ) from None
    if not iban.in_sepa_zone:
        raise InvalidIban(
            "Cet IBAN n'est pas celui d'un compte de la zone SEPA : le prélèvement demande un compte en "
            "Europe (zone SEPA)."
        )
    return str(iban.compact)


def _length(country: str) -> int | None:
    try:
        return int(get_iban_spec(country).iban_length)
    except (KeyError, SchwiftyException):
        return None


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
