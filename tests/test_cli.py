"""`carflow` prints JSON {"id", "token"} for new accounts; bad configuration is one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from carflow.settings import Settings
from db.accounts import authenticate
from db.models import Role
from db.session import create_engine, create_session_factory
from support import free_port

CARFLOW = str(Path(sys.executable).parent / "carflow")


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARFLOW_")}
    env["CARFLOW_VAR_DIR"] = str(settings.var_dir)
    env["CARFLOW_DATABASE_URL"] = settings.database.render_as_string(hide_password=False)
    if settings.database_schema:
        env["CARFLOW_DATABASE_SCHEMA"] = settings.database_schema
    env.update(extra)
    return env


def carflow(settings: Settings, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CARFLOW, *args], env=env_for(settings, **extra), capture_output=True, text=True, timeout=60
    )


async def principal_of(settings: Settings, token: str):  # noqa: ANN201
    engine = create_engine(settings)
    try:
        async with create_session_factory(engine)() as session:
            return await authenticate(session, token)
    finally:
        await engine.dispose()


async def test_migrate_then_create_each_kind_of_account(settings: Settings) -> None:
    migrate = carflow(settings, "migrate")
    assert migrate.returncode == 0, migrate.stderr
    assert "is at revision" in migrate.stderr

    for args, role in (
        (("dealer", "create", "Garage du Lac"), Role.DEALER),
        (("staff", "create", "Alice ADV"), Role.STAFF),
        (("inspector", "create", "Bob Expert"), Role.INSPECTOR),
    ):
        result = carflow(settings, *args)
        assert result.returncode == 0, result.stderr
        output = json.loads(result.stdout)
        assert set(output) == {"id", "token"}
        principal = await principal_of(settings, output["token"])
        assert principal is not None
        assert (principal.role, str(principal.id), principal.name) == (role, output["id"], args[2])


async def test_dealer_without_remote_sale(migrated: Settings) -> None:
    with_option = json.loads(carflow(migrated, "dealer", "create", "A").stdout)
    without = json.loads(carflow(migrated, "dealer", "create", "B", "--no-remote-sale").stdout)
    assert (await principal_of(migrated, with_option["token"])).remote_sale_enabled is True
    assert (await principal_of(migrated, without["token"])).remote_sale_enabled is False


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("CARFLOW_PUBLIC_URL", "not a url", "CARFLOW_PUBLIC_URL must be an absolute http(s) URL"),
        ("CARFLOW_DATABASE_URL", "mysql://x/y", "CARFLOW_DATABASE_URL must use an async driver"),
        ("CARFLOW_DATABASE_URL", "::::", "CARFLOW_DATABASE_URL is not a database URL"),
        ("CARFLOW_TEMPORAL_ADDRESS", "localhost", "CARFLOW_TEMPORAL_ADDRESS must be host:port"),
        ("CARFLOW_API_PORT", "eighty", "CARFLOW_API_PORT"),
    ],
)
def test_bad_setting_is_one_line_naming_it(settings: Settings, variable, value, expected) -> None:
    result = carflow(settings, "migrate", **{variable: value})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_database_is_one_line_naming_the_setting(settings: Settings) -> None:
    url = f"postgresql+asyncpg://carflow:secret@127.0.0.1:{free_port()}/carflow"
    result = carflow(settings, "migrate", CARFLOW_DATABASE_URL=url)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert (
        "cannot use the database at CARFLOW_DATABASE_URL=postgresql+asyncpg://carflow:***@" in result.stderr
    )
    assert "connection refused" in result.stderr
    assert "secret" not in result.stderr


def test_prod_profile_refuses_dev_secrets(settings: Settings) -> None:
    result = carflow(settings, "migrate", CARFLOW_PROFILE="prod")
    assert result.returncode == 2
    assert "CARFLOW_SECRET_KEY must be set when CARFLOW_PROFILE=prod" in result.stderr


async def test_demo_loads_once_and_prints_working_tokens(migrated: Settings) -> None:
    first = carflow(migrated, "demo")
    assert first.returncode == 0, first.stderr
    credentials = json.loads(first.stdout)
    dealer = await principal_of(migrated, credentials["dealer"]["token"])
    assert dealer is not None and dealer.remote_sale_enabled
    no_remote = await principal_of(migrated, credentials["dealer_without_remote_sale"]["token"])
    assert no_remote is not None and not no_remote.remote_sale_enabled
    assert (await principal_of(migrated, credentials["staff"]["token"])).role is Role.STAFF

    second = carflow(migrated, "demo")
    assert second.returncode == 0
    assert "already loaded" in second.stderr
    assert json.loads(second.stdout) == credentials  # same accounts, nothing duplicated
    assert oct((migrated.var_dir / "demo-credentials.json").stat().st_mode & 0o777) == "0o600"
