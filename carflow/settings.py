"""The one place where Carflow is configured: every setting is an env var prefixed CARFLOW_.

Each field's description is what the README's configuration table shows, so keep them short
and true. Validation happens here, at start-up, so a wrong value is reported once, by name,
instead of surfacing later as a stack trace deep in a driver.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

ENV_PREFIX = "CARFLOW_"

# Dev-only defaults; the prod profile refuses to start with them (see _no_dev_secrets_in_prod).
DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"
DEV_IBAN_KEY = "dev-insecure-iban-key-change-me"
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    profile: Literal["dev", "prod"] = Field(
        "dev", description="`dev` enables the demo data and the /dev/mailbox page."
    )
    var_dir: Path = Field(Path("var"), description="Where local state lives (SQLite files, dev mailbox).")
    database_url: str = Field(
        "",
        description="SQLAlchemy async URL. Default: SQLite file `<var_dir>/carflow.db`. "
        "Production: `postgresql+asyncpg://user:pass@host:5432/carflow`.",
    )
    database_schema: str | None = Field(
        None, description="PostgreSQL schema to use instead of `public` (search_path)."
    )

    temporal_address: str = Field("127.0.0.1:7233", description="Temporal frontend host:port.")
    temporal_namespace: str = Field("default", description="Temporal namespace.")
    task_queue: str = Field("carflow", description="Task queue of the Carflow worker.")
    temporal_tls: bool = Field(False, description="Use TLS to reach Temporal (Temporal Cloud).")
    temporal_tls_cert: Path | None = Field(None, description="Client certificate (mTLS), PEM.")
    temporal_tls_key: Path | None = Field(None, description="Client private key (mTLS), PEM.")
    temporal_api_key: SecretStr | None = Field(None, description="Temporal Cloud API key.")
    temporal_connect_timeout_s: float = Field(
        60.0, gt=0, description="How long the worker keeps retrying to reach Temporal at start."
    )
    temporal_ui_url: str = Field(
        "http://127.0.0.1:8233", description="Temporal UI, for links shown to ADV staff."
    )
    temporal_dev_db: Path | None = Field(
        None, description="SQLite file of the embedded Temporal dev server. Default: `<var_dir>/temporal.db`."
    )

    api_host: str = Field("127.0.0.1", description="Address the API listens on.")
    api_port: int = Field(8000, ge=1, le=65535, description="Port the API listens on.")
    public_url: str = Field("http://127.0.0.1:8000", description="Absolute base URL used in emailed links.")

    smtp_host: str = Field("127.0.0.1", description="SMTP server (the dev sink by default).")
    smtp_port: int = Field(1025, ge=1, le=65535, description="SMTP port.")
    smtp_username: str | None = Field(None, description="SMTP login, if the server needs one.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    mail_from: str = Field("Carflow <no-reply@carflow.localhost>", description="Sender of every email.")
    reminder_after_sent_days: int | None = Field(
        7,
        ge=1,
        le=29,
        description="Remind an unsigned buyer this many days after the first sending (empty: off).",
    )
    reminder_before_expiry_days: int | None = Field(
        3,
        ge=1,
        le=29,
        description="Remind an unsigned buyer this many days before the proposal expires (empty: off).",
    )

    sms_provider: Literal["email_gateway", "http"] = Field(
        "email_gateway",
        description="`email_gateway` mails the text to `<digits>@<sms_gateway_domain>`; "
        "`http` posts it to `sms_http_url`.",
    )
    sms_gateway_domain: str = Field("sms.localhost", description="Domain of the email-to-SMS gateway.")
    sms_http_url: str | None = Field(None, description="Endpoint of the HTTP SMS provider.")
    sms_http_token: SecretStr | None = Field(None, description="Bearer token of the SMS provider.")

    signature_provider: Literal["local", "docusign"] = Field(
        "local", description="`local` simple e-signature, or `docusign`."
    )
    # DocuSign (signature_provider=docusign): JWT grant, embedded signing, Connect webhook.
    # Setup: docs/docusign.md.
    docusign_integration_key: str | None = Field(None, description="DocuSign app's integration key.")
    docusign_user_id: str | None = Field(
        None, description="DocuSign user (GUID) the JWT grant impersonates; must have consented."
    )
    docusign_account_id: str | None = Field(None, description="DocuSign account (GUID) envelopes go to.")
    docusign_private_key_path: Path | None = Field(
        None, description="RSA private key of the integration key (PEM file), for the JWT grant."
    )
    docusign_private_key: SecretStr | None = Field(
        None, description="The same RSA private key as PEM text, instead of a file."
    )
    docusign_oauth_host: str = Field(
        "account-d.docusign.com",
        description="OAuth host: `account-d.docusign.com` (demo) or `account.docusign.com`.",
    )
    docusign_base_path: str = Field(
        "https://demo.docusign.net/restapi",
        description="REST base path: the account's base URI + `/restapi` (e.g. `https://eu.docusign.net/restapi`).",
    )
    docusign_ca_cert: Path | None = Field(
        None, description="CA bundle (PEM) to trust for DocuSign instead of the public CAs (tests)."
    )
    docusign_connect_hmac_keys: SecretStr | None = Field(
        None, description="Connect HMAC keys, comma-separated (several while rotating)."
    )

    secret_key: SecretStr = Field(
        SecretStr(DEV_SECRET_KEY), description="Signs sessions and CSRF tokens. Required in prod."
    )
    iban_encryption_key: SecretStr = Field(
        SecretStr(DEV_IBAN_KEY), description="Encrypts stored IBANs. Required in prod."
    )

    # Owner passwords (argon2id). Defaults: pwdlib's recommended parameters; tests lower them.
    password_hash_time_cost: int = Field(3, ge=1, description="Argon2id iterations for owner passwords.")
    password_hash_memory_kib: int = Field(
        65536, ge=8, description="Argon2id memory per hash, in KiB (at least 8 x parallelism)."
    )
    password_hash_parallelism: int = Field(4, ge=1, description="Argon2id lanes (threads) per hash.")

    worker_metrics_host: str = Field(
        "127.0.0.1", description="Address of the worker's Prometheus endpoint (`0.0.0.0` in a container)."
    )
    worker_metrics_port: int = Field(
        9464,
        ge=0,
        le=65535,
        description="Port of the worker's Prometheus endpoint (SDK metrics); 0 disables it.",
    )
    adv_stuck_attempts: int = Field(
        3, ge=1, description="ADV: an activity that has failed this many times in a row is stuck."
    )
    adv_stuck_minutes: int = Field(
        15, ge=1, description="ADV: an activity failing for this many minutes is stuck."
    )
    adv_signing_stuck_hours: int = Field(
        48, ge=1, description="ADV: a proposal in `signing` for this many hours is stuck."
    )
    adv_visibility_refresh_s: float = Field(
        5.0,
        ge=0,
        description="ADV stuck list: Temporal's reported problems (a visibility query over every "
        "running workflow) are asked at most this often per API process (s), refreshed in the "
        "background; 0 asks at every page.",
    )
    # Outages (issue 15): who people are told to contact, and when the API stops being ready.
    support_email: str = Field(
        "support@carflow.localhost", description="Support contact shown on pages when a service is down."
    )
    support_phone: str | None = Field(None, description="Support phone shown on pages during an outage.")
    # The dealer's web app (issue 13): where dealers report what the seed tells them to report.
    adv_email: str = Field(
        "adv@carflow.example", description="ADV's address, prefilled in the dealer pages' mailto links."
    )
    ready_max_backlog_age_s: float = Field(
        30.0,
        gt=0,
        description="`/readyz` answers 503 when the oldest task waiting on the task queue is older.",
    )
    # Backpressure (issue 15, api/backpressure.py): new work is refused at once, not after 30 s.
    backpressure_slots: int = Field(
        16,
        ge=0,
        description="Workflow actions (POST/PUT/PATCH/DELETE) in flight per API process; 0: no limit.",
    )
    backpressure_slot_wait_s: float = Field(
        0.5, ge=0, description="How long an action waits for a free slot before `503 overloaded`."
    )
    backpressure_max_backlog_age_s: float = Field(
        10.0,
        gt=0,
        description="New actions answer `503 overloaded` while the oldest task on the task queue "
        "has waited longer (or no worker polls).",
    )
    backpressure_backlog_ttl_s: float = Field(
        1.0, gt=0, description="How long the API trusts its last look at the task queue's backlog."
    )
    backpressure_retry_after_s: int = Field(
        2, ge=1, description="`Retry-After` of a `503 overloaded` answer, in seconds."
    )

    # Worker sizing, for a small machine (2 cores, a few hundred MB): README "Worker sizing".
    worker_max_cached_workflows: int = Field(
        500,
        ge=0,
        description="Workflows the worker keeps in memory between tasks (sticky cache; SDK default 1000). "
        "An evicted workflow is replayed from its history at its next task.",
    )
    worker_max_concurrent_workflow_tasks: int = Field(
        20, ge=2, description="Workflow tasks run at once (SDK default 100); they share one core."
    )
    worker_max_concurrent_activities: int = Field(
        20, ge=1, description="Activities run at once (SDK default 100): emails, PDFs, projections."
    )
    worker_max_concurrent_local_activities: int = Field(
        20, ge=1, description="Local activities run at once (SDK default 100)."
    )
    worker_reuse_workflow_modules: bool = Field(
        True,
        description="Pass the workflow modules through the sandbox instead of re-importing them for "
        "every workflow (a start costs ~1 ms of CPU instead of ~20). False runs them under the "
        "sandbox's run-time checks, as the test suite does.",
    )

    # Per-request cost (issue 12): what the API does besides the request's own queries.
    metrics_refresh_s: float = Field(
        15.0,
        ge=0,
        description="`/metrics`: lifecycle gauges are read from the database at most this often (s); "
        "0 reads them at every scrape.",
    )
    database_ping_idle_s: float = Field(
        30.0,
        ge=0,
        description="A pooled connection idle longer than this (s) is pinged before reuse (a dropped "
        "one is replaced); busier connections are not, so the hot path pays no ping.",
    )
    database_pool_recycle_s: int = Field(
        1800, ge=-1, description="Pooled connections older than this (s) are replaced; -1 never."
    )

    # The dealers' notices (issue 13): which proposals are "about to expire", how often they go.
    dealer_notice_expiring_days: int = Field(
        3, ge=1, le=29, description="Tell the dealer when an unsigned proposal expires within this many days."
    )
    dealer_notice_interval_s: float = Field(
        60.0, gt=0, description="How often the worker's notices relay queues and sends dealer notices (s)."
    )

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    log_format: Literal["json", "console"] = Field(
        "json", description="`json` (one object per line) or `console` (human-readable)."
    )

    @field_validator("public_url", "temporal_ui_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"must be an absolute http(s) URL like http://host:port, got {value!r}")
        try:
            parts.port  # noqa: B018 - raises on a non-numeric port
        except ValueError as exc:
            raise ValueError(f"has an invalid port: {value!r}") from exc
        return value.rstrip("/")

    @field_validator("temporal_address")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"must be host:port like 127.0.0.1:7233, got {value!r}")
        return value

    @field_validator("database_url")
    @classmethod
    def _sqlalchemy_url(cls, value: str) -> str:
        if not value:
            return value
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"is not a database URL: {value!r}") from exc
        if url.drivername not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
            raise ValueError(
                "must use an async driver: sqlite+aiosqlite:///path or "
                f"postgresql+asyncpg://user@host/db, got {url.drivername!r}"
            )
        return value

    @model_validator(mode="after")
    def _no_dev_secrets_in_prod(self) -> Settings:
        if self.profile == "prod":
            dev_values = {"secret_key": DEV_SECRET_KEY, "iban_encryption_key": DEV_IBAN_KEY}
            for name, dev_value in dev_values.items():
                value = getattr(self, name).get_secret_value()
                if value == dev_value:
                    raise ValueError(f"CARFLOW_{name.upper()} must be set when CARFLOW_PROFILE=prod")
                if len(value) < MIN_SECRET_LENGTH:
                    raise ValueError(
                        f"CARFLOW_{name.upper()} must be at least {MIN_SECRET_LENGTH} characters "
                        "when CARFLOW_PROFILE=prod (e.g. `openssl rand -hex 32`)"
                    )
        if self.password_hash_memory_kib < 8 * self.password_hash_parallelism:
            raise ValueError(
                f"{ENV_PREFIX}PASSWORD_HASH_MEMORY_KIB must be at least 8 x "
                f"{ENV_PREFIX}PASSWORD_HASH_PARALLELISM (argon2)"
            )
        if self.sms_provider == "http" and not self.sms_http_url:
            raise ValueError("CARFLOW_SMS_HTTP_URL must be set when CARFLOW_SMS_PROVIDER=http")
        if self.signature_provider == "docusign":
            missing = [
                f"{ENV_PREFIX}{name.upper()}"
                for name in (
                    "docusign_integration_key",
                    "docusign_user_id",
                    "docusign_account_id",
                    "docusign_connect_hmac_keys",
                )
                if not getattr(self, name)
            ]
            if not (self.docusign_private_key_path or self.docusign_private_key):
                missing.append(f"{ENV_PREFIX}DOCUSIGN_PRIVATE_KEY_PATH (or {ENV_PREFIX}DOCUSIGN_PRIVATE_KEY)")
            if missing:
                raise ValueError(
                    f"{', '.join(missing)} must be set when {ENV_PREFIX}SIGNATURE_PROVIDER=docusign"
                )
            for name in ("docusign_private_key_path", "docusign_ca_cert"):
                path = getattr(self, name)
                if path is not None and not path.is_file():
                    raise ValueError(f"{ENV_PREFIX}{name.upper()} is not a readable file: {path}")
        return self

    @cached_property
    def database(self) -> URL:
        """The effective database URL (the SQLite default lives under var_dir)."""
        if self.database_url:
            return make_url(self.database_url)
        return make_url(f"sqlite+aiosqlite:///{self.var_dir / 'carflow.db'}")

    @property
    def is_sqlite(self) -> bool:
        return self.database.get_backend_name() == "sqlite"

    @property
    def temporal_dev_db_path(self) -> Path:
        return self.temporal_dev_db or self.var_dir / "temporal.db"

    @property
    def mailbox_dir(self) -> Path:
        """Maildir where the dev SMTP sink stores what it receives."""
        return self.var_dir / "mailbox"

    @property
    def documents_dir(self) -> Path:
        """Where contract PDFs are stored, by content hash."""
        return self.var_dir / "documents"

    @property
    def dev(self) -> bool:
        return self.profile == "dev"


class ConfigurationError(Exception):
    """A setting is wrong; the message names it and fits on one line."""


def describe_validation_error(exc: ValidationError) -> str:
    """One line per bad setting, named as the environment variable a user would set."""
    lines = []
    for err in exc.errors():
        name = ".".join(str(part) for part in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if name:
            lines.append(f"{ENV_PREFIX}{name.upper()} {message}")
        else:
            lines.append(message)
    return "; ".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, or ConfigurationError with a one-line reason."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigurationError(f"invalid configuration: {describe_validation_error(exc)}") from None
