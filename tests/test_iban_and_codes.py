"""IBANs validated, masked and encrypted; one-time codes expire and lock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from carflow.iban import IbanVault, InvalidIban, mask_iban, normalize_iban
from carflow.onetime_codes import CODE_TTL, MAX_TRIES, CodeAttempt, new_code
from support import make_settings

VALID = "FR76 3000 6000 0112 3456 7890 189"


def test_valid_iban_is_normalized() -> None:
    assert normalize_iban(f"  {VALID.lower()} ") == "FR7630006000011234567890189"


@pytest.mark.parametrize("bad", ["FR76 3000 6000 0112 3456 7890 188", "FR76", "hello", ""])
def test_invalid_iban_message_is_french_and_never_echoes_it(bad: str) -> None:
    with pytest.raises(InvalidIban) as info:
        normalize_iban(bad)
    assert "IBAN" in str(info.value)
    assert not bad or bad not in str(info.value)


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("", "Indiquez l'IBAN"),
        ("   ", "Indiquez l'IBAN"),
        ("FR76 3000 6000 0112 3456 7890 18", "26 caractères saisis, un IBAN de ce pays en compte 27"),
        ("FR76 3000 6000 0112 3456 7890 188", "clé de contrôle"),
        ("XX00 1234", "deux lettres du pays"),
        ("FR76-3000", "que des lettres et des chiffres"),
        ("BR18 0036 0305 0000 1000 9795 493C 1", "zone SEPA"),
    ],
)
def test_each_kind_of_wrong_iban_gets_its_own_message(raw: str, says: str) -> None:
    with pytest.raises(InvalidIban) as info:
        normalize_iban(raw)
    assert says in str(info.value)


def test_mask_keeps_country_check_digits_and_last_four() -> None:
    assert mask_iban("FR7630006000011234567890189") == "FR76 **** **** **** **** ***0 189"


def test_vault_round_trips_and_hides_the_iban(tmp_path) -> None:
    vault = IbanVault(make_settings(tmp_path))
    token = vault.encrypt("FR7630006000011234567890189")
    assert "FR76" not in token and "0189" not in token
    assert vault.decrypt(token) == "FR7630006000011234567890189"
    other = IbanVault(make_settings(tmp_path, iban_encryption_key="another-key-another-key-another-key"))
    with pytest.raises(ValueError, match="cannot be decrypted"):
        other.decrypt(token)


def test_codes_are_six_digits_and_vary() -> None:
    codes = {new_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 150


def test_right_code_passes_and_is_stored_hashed() -> None:
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    attempt = CodeAttempt.issue("attempt-1", "123456", now)
    assert "123456" not in attempt.code_hash
    assert attempt.check("123456", now + timedelta(minutes=9)) == "ok"


def test_five_wrong_codes_lock_the_attempt() -> None:
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    attempt = CodeAttempt.issue("attempt-2", "123456", now)
    results = [attempt.check("000000", now) for _ in range(MAX_TRIES)]
    assert results == ["wrong"] * (MAX_TRIES - 1) + ["locked"]
    assert attempt.check("123456", now) == "locked"  # even the right code, once locked


def test_expired_code_is_refused() -> None:
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    attempt = CodeAttempt.issue("attempt-3", "123456", now)
    assert attempt.check("123456", now + CODE_TTL + timedelta(seconds=1)) == "expired"
