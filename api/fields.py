"""Field types for French car-sales data: normalised on the way in, refused with a clear message.

Each type accepts the spellings a dealer actually types (spaces, dots, lower case) and
stores one canonical form, so searching and comparing never depends on how it was typed.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, EmailStr, StringConstraints
from pydantic_core import PydanticCustomError

from carflow.formatting import PARIS

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Separators people put in phone numbers: spaces (incl. non-breaking), dots, dashes, brackets.
_PHONE_SEPARATORS = re.compile(r"[\s.\-()\u00a0\u202f]")
# VIN (ISO 3779): 17 characters, letters I, O and Q never used (confusable with 1 and 0).
_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
# SIV registration (since 2009): two letters, three digits, two letters; I, O and U are not
# used (confusable with 1, 0 and V).
_SIV = re.compile(r"^([A-Z]{2})[-\s]?([0-9]{3})[-\s]?([A-Z]{2})$")
_SIV_EXCLUDED = set("IOU")


def _no_control_characters(value: str) -> str:
    # Names end up in email headers and PDFs: a newline there is an injection, not a name.
    if _CONTROL.search(value):
        raise PydanticCustomError("control_character", "must not contain control characters")
    return value


def _national_digits(value: object) -> str:
    """French phone number as its 10 national digits ("0612345678"), whatever the spelling."""
    if not isinstance(value, str):
        raise PydanticCustomError("phone_type", "must be a string")
    digits = _PHONE_SEPARATORS.sub("", value)
    if digits.startswith("+33"):
        digits = digits[3:]
    elif digits.startswith("0033"):
        digits = digits[4:]
    else:
        return digits
    # "+33 (0)6 12 34 56 78" is common in signatures: the bracketed 0 is not dialled.
    return "0" + digits[1:] if digits.startswith("0") else "0" + digits


def _e164(value: object, national: str, error_type: str, message: str) -> str:
    """A French number whose 10 national digits match `national`, in E.164 ("+33…")."""
    digits = _national_digits(value)
    if not re.fullmatch(national, digits):
        raise PydanticCustomError(error_type, message)
    return "+33" + digits[1:]


def normalize_french_mobile(value: object) -> str:
    """ "06 12 34 56 78", "+33612345678", "0612345678" → "+33612345678" (E.164)."""
    return _e164(
        value,
        r"0[67][0-9]{8}",
        "french_mobile",
        "must be a French mobile number (06 or 07), like 06 12 34 56 78 or +33 6 12 34 56 78",
    )


def normalize_french_phone(value: object) -> str:
    """Any French number, landline or mobile, in E.164: a seller may give the showroom's line."""
    return _e164(
        value,
        r"0[1-9][0-9]{8}",
        "french_phone",
        "must be a French phone number, like 01 23 45 67 89 or +33 1 23 45 67 89",
    )


def normalize_vin(value: object) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("vin_type", "must be a string")
    vin = value.strip().upper()
    if len(vin) != 17:
        raise PydanticCustomError(
            "vin_length", "a VIN has exactly 17 characters, got {length}", {"length": len(vin)}
        )
    if set(vin) & set("IOQ"):
        raise PydanticCustomError("vin_letters", "a VIN never contains the letters I, O or Q")
    if not _VIN.fullmatch(vin):
        raise PydanticCustomError("vin_characters", "a VIN contains only letters and digits")
    return vin


def normalize_registration(value: object) -> str:
    """French SIV plate: "ab123cd", "AB 123 CD", "AB-123-CD" → "AB-123-CD"."""
    if not isinstance(value, str):
        raise PydanticCustomError("registration_type", "must be a string")
    match = _SIV.fullmatch(value.strip().upper())
    if match is None:
        raise PydanticCustomError(
            "registration_format", "must be a French registration in the SIV format, like AB-123-CD"
        )
    left, number, right = match.groups()
    if set(left + right) & _SIV_EXCLUDED:
        raise PydanticCustomError("registration_letters", "SIV registrations never use the letters I, O or U")
    if number == "000":
        raise PydanticCustomError("registration_number", "SIV registrations never use the number 000")
    return f"{left}-{number}-{right}"


def _postal_code(value: str) -> str:
    if not re.fullmatch(r"[0-9]{5}", value):
        raise PydanticCustomError("postal_code", "must be a French postal code of 5 digits, like 75011")
    return value


def today_in_paris() -> date:
    return datetime.now(PARIS).date()


def not_in_the_future(value: date) -> date:
    # Paris calendar: a car registered this morning in France is not "in the future" for a
    # server running in UTC just before midnight.
    if value > today_in_paris():
        raise PydanticCustomError("date_in_future", "must not be in the future")
    if value.year < 1900:
        raise PydanticCustomError("date_too_old", "must be after 1900")
    return value


def _text(max_length: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


Text50 = Annotated[str, _text(50), AfterValidator(_no_control_characters)]
Text80 = Annotated[str, _text(80), AfterValidator(_no_control_characters)]
Text100 = Annotated[str, _text(100), AfterValidator(_no_control_characters)]
Text200 = Annotated[str, _text(200), AfterValidator(_no_control_characters)]
# email-validator enforces the RFC limits (254 characters) and the syntax; no DNS lookup.
Email = EmailStr
FrenchMobile = Annotated[str, BeforeValidator(normalize_french_mobile)]
FrenchPhone = Annotated[str, BeforeValidator(normalize_french_phone)]
Vin = Annotated[str, BeforeValidator(normalize_vin)]
Registration = Annotated[str, BeforeValidator(normalize_registration)]
PostalCode = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=10), AfterValidator(_postal_code)
]
PastDate = Annotated[date, AfterValidator(not_in_the_future)]
