"""Settings: defaults that run the embedded stack, CARFLOW_ env vars, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from carflow.settings import ConfigurationError, Settings, load_settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    import os

    for key in [k for k in os.environ if k.startswith("CARFLOW_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return monkeypatch


def test_defaults_are_the_embedded_stack(clean_env) -> None:
    s = Settings()
    assert str(s.database) == "sqlite+aiosqlite:///var/carflow.db"
    assert s.temporal_address == "127.0.0.1:7233"
    assert (s.temporal_namespace, s.task_queue) == ("default", "carflow")
    assert s.temporal_ui_url == "http://127.0.0.1:8233"
    assert (s.smtp_host, s.smtp_port) == ("127.0.0.1", 1025)
    assert s.public_url == "http://127.0.0.1:8000"
    assert s.temporal_dev_db_path == Path("var/temporal.db")
    assert (s.sms_provider, s.signature_provider, s.profile) == ("email_gateway", "local", "dev")


def test_environment_overrides_with_prefix(clean_env) -> None:
    clean_env.setenv("CARFLOW_DATABASE_URL", "postgresql+asyncpg://u:p@db:5432/carflow")
    clean_env.setenv("CARFLOW_TEMPORAL_ADDRESS", "temporal:7233")
    clean_env.setenv("CARFLOW_TASK_QUEUE", "carflow-prod")
    clean_env.setenv("CARFLOW_PUBLIC_URL", "https://carflow.example.com/")
    s = Settings()
    assert s.database.host == "db" and not s.is_sqlite
    assert (s.temporal_address, s.task_queue) == ("temporal:7233", "carflow-prod")
    assert s.public_url == "https://carflow.example.com"  # no trailing slash in built links


def test_errors_name_every_bad_setting_on_one_line(clean_env) -> None:
    clean_env.setenv("CARFLOW_PUBLIC_URL", "ftp://x")
    clean_env.setenv("CARFLOW_SMTP_PORT", "99999")
    with pytest.raises(ConfigurationError) as info:
        load_settings()
    message = str(info.value)
    assert "\n" not in message
    assert "CARFLOW_PUBLIC_URL" in message and "CARFLOW_SMTP_PORT" in message


def test_http_sms_provider_needs_its_url(clean_env) -> None:
    clean_env.setenv("CARFLOW_SMS_PROVIDER", "http")
    with pytest.raises(ConfigurationError, match="CARFLOW_SMS_HTTP_URL must be set"):
        load_settings()


def test_prod_accepts_real_secrets(clean_env) -> None:
    clean_env.setenv("CARFLOW_PROFILE", "prod")
    clean_env.setenv("CARFLOW_SECRET_KEY", "k" * 40)
    clean_env.setenv("CARFLOW_IBAN_ENCRYPTION_KEY", "i" * 40)
    assert load_settings().dev is False


def test_prod_refuses_short_secrets(clean_env) -> None:
    clean_env.setenv("CARFLOW_PROFILE", "prod")
    clean_env.setenv("CARFLOW_SECRET_KEY", "short")
    clean_env.setenv("CARFLOW_IBAN_ENCRYPTION_KEY", "i" * 40)
    with pytest.raises(ConfigurationError, match="CARFLOW_SECRET_KEY must be at least 32 characters"):
        load_settings()
