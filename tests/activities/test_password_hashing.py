"""Owner password hashing: production parameters are pwdlib's recommended argon2id ones.

Every other test runs with the cheap parameters of `support.make_settings`; this is the one
place the production defaults are checked, and the one place they are paid for.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pwdlib import PasswordHash

from carflow.password_hashing import hash_password, password_hasher, verify_password
from carflow.settings import ConfigurationError, Settings, load_settings
from support import CHEAP_PASSWORD_HASHING, make_settings


@pytest.fixture
def production_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    """The defaults, as a deployment without CARFLOW_PASSWORD_HASH_* gets them."""
    for key in [k for k in os.environ if k.startswith("CARFLOW_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return Settings()


def test_defaults_are_pwdlibs_recommended_argon2_parameters(production_settings: Settings) -> None:
    recommended = PasswordHash.recommended().current_hasher._hasher  # type: ignore[attr-defined]
    ours = password_hasher(production_settings).current_hasher._hasher  # type: ignore[attr-defined]
    expected = (recommended.time_cost, recommended.memory_cost, recommended.parallelism)
    assert (
        production_settings.password_hash_time_cost,
        production_settings.password_hash_memory_kib,
        production_settings.password_hash_parallelism,
    ) == expected
    assert (ours.time_cost, ours.memory_cost, ours.parallelism, ours.type) == (*expected, recommended.type)
    assert (ours.hash_len, ours.salt_len) == (recommended.hash_len, recommended.salt_len)


def test_a_hash_made_with_the_defaults_verifies(production_settings: Settings) -> None:
    hashed = hash_password("un-mot-de-passe-assez-long", production_settings)
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password("un-mot-de-passe-assez-long", hashed, production_settings)
    assert not verify_password("un-autre-mot-de-passe", hashed, production_settings)


def test_hashes_keep_their_parameters_and_unknown_emails_cost_a_verification(tmp_path: Path) -> None:
    cheap = make_settings(tmp_path)
    assert {name: getattr(cheap, name) for name in CHEAP_PASSWORD_HASHING} == CHEAP_PASSWORD_HASHING
    hashed = hash_password("un-mot-de-passe-assez-long", cheap)
    assert hashed.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    # A hash verifies whatever the current settings: the parameters travel with it.
    other = make_settings(tmp_path, password_hash_time_cost=2, password_hash_memory_kib=16)
    assert verify_password("un-mot-de-passe-assez-long", hashed, other)
    assert not verify_password("un-mot-de-passe-assez-long", None, cheap)
    assert not verify_password("un-mot-de-passe-assez-long", "not-a-hash", cheap)


def test_memory_below_the_argon2_minimum_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARFLOW_PASSWORD_HASH_PARALLELISM", "4")
    monkeypatch.setenv("CARFLOW_PASSWORD_HASH_MEMORY_KIB", "16")
    with pytest.raises(ConfigurationError, match="CARFLOW_PASSWORD_HASH_MEMORY_KIB must be at least 8 x"):
        load_settings(_env_file=None)
