"""temporal/docker-compose.yml and the Dockerfile agree with the code they deploy.

Nothing here runs Docker: the files are parsed and checked against `Settings`, the
search-attribute list and pyproject, so a rename on either side fails a test instead
of a production start-up.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import tomllib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy.engine import make_url

from carflow.settings import DEV_IBAN_KEY, DEV_SECRET_KEY, ENV_PREFIX, Settings
from workflows.search_attributes import CLI_TYPES

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "temporal" / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
PYPROJECT = ROOT / "pyproject.toml"
DEPLOYMENT_DOC = ROOT / "docs" / "deployment.md"

APP_SERVICES = ("migrate", "worker", "api")
SETTINGS_ENV_NAMES = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
# Read by a library rather than Settings: uvicorn's trusted proxy addresses.
NON_CARFLOW_APP_VARIABLES = {"FORWARDED_ALLOW_IPS"}

# Temporal's defaults when the variable is not set (server config template, UI config).
TEMPORAL_FRONTEND_DEFAULT_PORT = "7233"
TEMPORAL_UI_DEFAULT_PORT = "8080"
POSTGRES_PORT = 5432


# --- compose variable interpolation ---------------------------------------------------

_INTERPOLATION = re.compile(
    r"\$(?:"
    r"(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*)"
    r")"
)


class MissingVariable(Exception):
    """A `${VAR:?message}` whose variable is unset: compose would refuse to start."""


def interpolate(
    text: str,
    env: Mapping[str, str],
    *,
    on_missing: Callable[[str, str], str] | None = None,
) -> str:
    """Compose's substitution: $$, ${VAR}, ${VAR:-default}, ${VAR-default},
    ${VAR:?error}, ${VAR?error}, ${VAR:+alt}, ${VAR+alt} and $VAR.

    A required variable that `env` lacks raises MissingVariable, unless `on_missing`
    supplies a stand-in value.
    """

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["named"]
        op, arg = match["op"], match["arg"] or ""
        value = env.get(name)
        is_set, non_empty = value is not None, bool(value)
        if op is None:
            return value or ""
        if op in (":-", "-"):
            use_value = non_empty if op == ":-" else is_set
            return value if use_value and value is not None else arg
        if op in (":+", "+"):
            use_arg = non_empty if op == ":+" else is_set
            return arg if use_arg else ""
        present = non_empty if op == ":?" else is_set
        if present and value is not None:
            return value
        if on_missing is None:
            raise MissingVariable(f"{name}: {arg}")
        return on_missing(name, arg)

    return _INTERPOLATION.sub(replace, text)


# Stand-ins for the required variables; the rest get `dummy-<name>`, one per variable,
# so two places that must use the same variable only compare equal if they do.
REQUIRED_STAND_INS = {"CARFLOW_PUBLIC_URL": "https://carflow.example.com"}


def stand_in(name: str, _message: str) -> str:
    # Long enough for the prod profile's minimum secret length.
    return REQUIRED_STAND_INS.get(name, "dummy-" + name.lower().replace("_", "-") + "-" + "x" * 32)


def resolve(value: Any) -> str:
    """A compose scalar as the container sees it, with an empty host environment."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return interpolate(str(value), {}, on_missing=stand_in)


# --- compose file access ---------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def raw_env(service: Mapping[str, Any]) -> dict[str, Any]:
    """The `environment` block as written (None = pass-through from the host)."""
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        pairs = (item.split("=", 1) if "=" in item else (item, None) for item in environment)
        return dict(pairs)
    return dict(environment)


def env_of(service: Mapping[str, Any]) -> dict[str, str]:
    """The container environment with an empty host environment: pass-through
    variables are unset, required ones get stand-ins, defaults apply."""
    return {key: resolve(value) for key, value in raw_env(service).items() if value is not None}


def command_of(service: Mapping[str, Any]) -> list[str]:
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def script_of(service: Mapping[str, Any]) -> str:
    """The job's shell script without its comment lines."""
    lines = "\n".join(command_of(service)).splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


def image_name(service: Mapping[str, Any]) -> str:
    return str(service.get("image", "")).split(":", 1)[0]


def service_named_by_image(services: Mapping[str, Any], image: str) -> str:
    names = [name for name, svc in services.items() if image_name(svc) == image]
    assert len(names) == 1, f"expected exactly one {image} service, found {names}"
    return names[0]


def search_attribute_job(services: Mapping[str, Any]) -> str:
    names = [n for n, s in services.items() if "search-attribute create" in script_of(s)]
    assert len(names) == 1, f"expected one job creating search attributes, found {names}"
    return names[0]


def parse_ports(service: Mapping[str, Any]) -> list[tuple[str | None, str | None, str]]:
    """(host ip, published port, container port) for every `ports` entry."""
    parsed = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            published = entry.get("published")
            parsed.append(
                (
                    entry.get("host_ip"),
                    None if published is None else resolve(published),
                    str(entry["target"]),
                )
            )
            continue
        parts = resolve(entry).split("/", 1)[0].split(":")
        if len(parts) == 1:
            parsed.append((None, None, parts[0]))
        elif len(parts) == 2:
            parsed.append((None, parts[0], parts[1]))
        else:
            parsed.append((":".join(parts[:-2]), parts[-2], parts[-1]))
    return parsed


def depends_on(service: Mapping[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def healthcheck_enabled(service: Mapping[str, Any], image_has_one: bool) -> bool:
    check = service.get("healthcheck")
    if check is None:
        return image_has_one
    return not check.get("disable", False) and check.get("test") not in (["NONE"], "NONE")


@pytest.fixture
def settings_for(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], Settings]:
    """Settings exactly as the named app container would load them from its env."""

    def load(name: str) -> Settings:
        with monkeypatch.context() as patch:
            for key in list(os.environ):
                if key.startswith(ENV_PREFIX):
                    patch.delenv(key)
            for key, value in env_of(services[name]).items():
                patch.setenv(key, value)
            return Settings(_env_file=None)  # type: ignore[call-arg]

    return load


# --- Dockerfile access -----------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and pending):
            continue
        if not line:
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        pending = ""
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> tuple[str, list[tuple[str, str]]]:
    """The base image of the last stage (ARG defaults applied) and its instructions."""
    args: dict[str, str] = {}
    for keyword, value in instructions:
        if keyword == "FROM":
            break
        if keyword == "ARG" and "=" in value:
            name, _, default = value.partition("=")
            args[name.strip()] = default.strip()
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    assert starts, "the Dockerfile has no FROM"
    base = instructions[starts[-1]][1].split()
    base = [word for word in base if not word.startswith("--")]
    image = interpolate(base[0], args)
    return image, instructions[starts[-1] + 1 :]


def env_instructions(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, value in stage:
        if keyword != "ENV":
            continue
        words = shlex.split(value)
        if words and "=" not in words[0]:
            env[words[0]] = " ".join(words[1:])
            continue
        for word in words:
            key, _, val = word.partition("=")
            env[key] = val
    return env


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    assert DOCKERFILE.is_file(), "the compose app services build ../Dockerfile"
    return dockerfile_instructions(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def pyproject() -> dict[str, Any]:
    return tomllib.loads(PYPROJECT.read_text())


# --- the interpolation helper itself ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("a$$b", {}, "a$b"),
        ("${X}", {"X": "1"}, "1"),
        ("${X}", {}, ""),
        ("$X/y", {"X": "1"}, "1/y"),
        ("${X:-d}", {}, "d"),
        ("${X:-d}", {"X": ""}, "d"),
        ("${X-d}", {"X": ""}, ""),
        ("${X:-d}", {"X": "v"}, "v"),
        ("${X:?boom}", {"X": "v"}, "v"),
        ("${X:+alt}", {"X": "v"}, "alt"),
        ("${X:+alt}", {}, ""),
        ("u:${P:?set P}@h", {"P": "pw"}, "u:pw@h"),
    ],
)
def test_interpolate(text: str, env: dict[str, str], expected: str) -> None:
    assert interpolate(text, env) == expected


def test_interpolate_reports_a_missing_required_variable() -> None:
    with pytest.raises(MissingVariable, match="P: set P"):
        interpolate("${P:?set P}", {"P": ""})
    assert interpolate("${P:?set P}", {}, on_missing=lambda name, _: name.lower()) == "p"


# --- compose: the file as a whole ------------------------------------------------------


def test_every_dollar_is_an_escape_or_a_braced_variable() -> None:
    """A bare `$name` (e.g. a shell variable in a job script) would be replaced by
    compose with an empty string; shell variables must be written `$$name`."""
    text = COMPOSE_FILE.read_text()
    named = [m.group(0) for m in _INTERPOLATION.finditer(text) if m["named"]]
    assert not named, f"unescaped shell variables (write $$ instead): {named}"
    leftover = _INTERPOLATION.sub("", text)
    assert "$" not in leftover, "a `$` that compose cannot interpolate"


def test_third_party_images_are_pinned(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if "build" in service:
            continue
        image = str(service.get("image", ""))
        tag = image.rpartition(":")[2] if ":" in image else ""
        assert tag and tag != "latest", f"{name}: pin a version, not {image!r}"


def test_schema_tools_match_the_server_version(services: dict[str, dict[str, Any]]) -> None:
    server = services[service_named_by_image(services, "temporalio/server")]
    version = server["image"].rpartition(":")[2]
    admin = [s for s in services.values() if image_name(s) == "temporalio/admin-tools"]
    assert admin, "no temporalio/admin-tools job (schema setup, search attributes)"
    for job in admin:
        assert job["image"].rpartition(":")[2] == version, (
            "temporal-sql-tool must install the schema of the server version it precedes"
        )


# --- compose: the app services and Settings --------------------------------------------


def test_app_services_are_the_ones_built_from_the_repository_dockerfile(
    services: dict[str, dict[str, Any]],
) -> None:
    built = {name for name, service in services.items() if "build" in service}
    assert built == set(APP_SERVICES)
    for name in APP_SERVICES:
        build = services[name]["build"]
        if isinstance(build, str):
            build = {"context": build}
        context = (COMPOSE_FILE.parent / build["context"]).resolve()
        assert context == ROOT, f"{name}: build context must be the repository root"
        assert (context / build.get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE
    assert DOCKERFILE.is_file()


def test_app_services_share_the_x_carflow_env_anchor(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    shared = compose["x-carflow-env"]
    assert shared, "x-carflow-env is the shared app environment"
    for name in APP_SERVICES:
        env = raw_env(services[name])
        for key, value in shared.items():
            assert key in env and env[key] == value, f"{name} does not use x-carflow-env {key}"


def test_every_carflow_variable_is_a_settings_field(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    names = set(compose["x-carflow-env"])
    for name in APP_SERVICES:
        names |= set(raw_env(services[name]))
    carflow_names = {n for n in names if n.startswith(ENV_PREFIX)}
    unknown = carflow_names - SETTINGS_ENV_NAMES
    assert not unknown, f"not Settings fields (typo or removed setting?): {sorted(unknown)}"
    others = names - carflow_names
    assert others <= NON_CARFLOW_APP_VARIABLES, f"unexpected variables: {sorted(others)}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_environment_validates_with_settings(name: str, settings_for: Callable[[str], Settings]) -> None:
    settings = settings_for(name)
    assert settings.profile == "prod"
    assert settings.log_format == "json"
    assert not settings.is_sqlite, "the stack must use app-db, not the SQLite default"
    assert settings.secret_key.get_secret_value() != DEV_SECRET_KEY
    assert settings.iban_encryption_key.get_secret_value() != DEV_IBAN_KEY


@pytest.mark.parametrize(
    "variable",
    ["CARFLOW_SECRET_KEY", "CARFLOW_IBAN_ENCRYPTION_KEY", "CARFLOW_PUBLIC_URL"],
)
def test_secrets_and_public_url_have_no_default(compose: dict[str, Any], variable: str) -> None:
    raw = str(compose["x-carflow-env"][variable])
    assert re.fullmatch(r"\$\{" + variable + r":\?[^}]+\}", raw), (
        f"{variable} must be required (`${{{variable}:?...}}`), got {raw!r}"
    )
    with pytest.raises(MissingVariable):
        interpolate(raw, {})


def test_api_and_worker_agree_on_temporal(settings_for: Callable[[str], Settings]) -> None:
    api, worker = settings_for("api"), settings_for("worker")
    assert api.task_queue == worker.task_queue
    assert api.temporal_namespace == worker.temporal_namespace
    assert api.temporal_address == worker.temporal_address
    assert api.database_url == worker.database_url == settings_for("migrate").database_url


def test_temporal_address_is_the_server_frontend(
    services: dict[str, dict[str, Any]], settings_for: Callable[[str], Settings]
) -> None:
    server_name = service_named_by_image(services, "temporalio/server")
    server_env = env_of(services[server_name])
    host, _, port = settings_for("worker").temporal_address.rpartition(":")
    assert host == server_name
    assert port == server_env.get("FRONTEND_GRPC_PORT", TEMPORAL_FRONTEND_DEFAULT_PORT)
    # The image's default binds the container address; 0.0.0.0 must stay explicit.
    assert server_env.get("BIND_ON_IP") == "0.0.0.0"


def test_database_url_matches_app_db(
    services: dict[str, dict[str, Any]], settings_for: Callable[[str], Settings]
) -> None:
    url = make_url(settings_for("api").database_url)
    assert url.drivername == "postgresql+asyncpg"
    assert url.host in services, f"{url.host} is not a compose service"
    db = services[url.host]
    assert image_name(db) == "postgres"
    db_env = env_of(db)
    assert (url.port or POSTGRES_PORT) == POSTGRES_PORT
    assert url.username == db_env["POSTGRES_USER"]
    assert url.password == db_env["POSTGRES_PASSWORD"]
    assert url.database == db_env.get("POSTGRES_DB", db_env["POSTGRES_USER"])
    assert "migrate" in depends_on(services["api"]) and url.host in depends_on(services["migrate"])


def test_api_listens_on_all_interfaces_and_publishes_its_port(
    services: dict[str, dict[str, Any]], settings_for: Callable[[str], Settings]
) -> None:
    settings = settings_for("api")
    assert raw_env(services["api"]).get("CARFLOW_API_HOST") == "0.0.0.0"
    assert settings.api_host == "0.0.0.0"
    targets = {target for _, _, target in parse_ports(services["api"])}
    assert str(settings.api_port) in targets, (
        f"api listens on {settings.api_port} but publishes {sorted(targets)}"
    )


def test_temporal_ui_is_published_on_8233_and_points_at_the_server(
    services: dict[str, dict[str, Any]], settings_for: Callable[[str], Settings]
) -> None:
    ui = services[service_named_by_image(services, "temporalio/ui")]
    ui_env = env_of(ui)
    settings = settings_for("api")
    assert ui_env["TEMPORAL_ADDRESS"] == settings.temporal_address
    assert ui_env.get("TEMPORAL_DEFAULT_NAMESPACE", "default") == settings.temporal_namespace
    ui_port = ui_env.get("TEMPORAL_UI_PORT", TEMPORAL_UI_DEFAULT_PORT)
    published = {(pub, target) for _, pub, target in parse_ports(ui)}
    assert ("8233", ui_port) in published, f"temporal-ui publishes {sorted(published)}"
    # The default link given to ADV staff must reach that published port.
    link = urlsplit(settings.temporal_ui_url)
    if link.hostname in ("localhost", "127.0.0.1"):
        assert link.port == 8233


def test_setup_job_registers_exactly_the_search_attributes_the_code_uses(
    services: dict[str, dict[str, Any]], settings_for: Callable[[str], Settings]
) -> None:
    job = services[search_attribute_job(services)]
    script = script_of(job)
    assert "temporal operator search-attribute create" in script
    pairs = re.findall(r"--name\s+(\S+)\s+--type\s+(\S+)", script)
    names = [name for name, _ in pairs]
    assert len(names) == len(set(names)), f"duplicate search attributes: {names}"
    assert dict(pairs) == CLI_TYPES
    settings = settings_for("worker")
    job_env = env_of(job)
    assert job_env["TEMPORAL_NAMESPACE"] == settings.temporal_namespace
    assert job_env["TEMPORAL_ADDRESS"] == settings.temporal_address
    assert "namespace create" in script, "the namespace must be registered when missing"


def test_schema_job_prepares_the_databases_the_server_uses(
    services: dict[str, dict[str, Any]],
) -> None:
    server_name = service_named_by_image(services, "temporalio/server")
    server = services[server_name]
    server_env = env_of(server)
    jobs = [n for n, s in services.items() if "temporal-sql-tool" in script_of(s)]
    assert len(jobs) == 1, f"expected one schema job, found {jobs}"
    job = services[jobs[0]]
    script = script_of(job)
    assert depends_on(server).get(jobs[0]) == "service_completed_successfully"
    assert server_env["DB"] == "postgres12" and "--plugin postgres12" in script
    expected_dbs = {
        server_env.get("DBNAME", "temporal"),
        server_env.get("VISIBILITY_DBNAME", "temporal_visibility"),
    }
    for db in expected_dbs:
        assert re.search(rf"--db {db} update-schema", script), f"{db} schema is not installed"
    db_name = server_env["POSTGRES_SEEDS"]
    assert image_name(services[db_name]) == "postgres"
    assert f"--ep {db_name}" in script
    db_env = env_of(services[db_name])
    assert server_env["POSTGRES_USER"] == db_env["POSTGRES_USER"]
    assert f"-u {db_env['POSTGRES_USER']}" in script
    assert server_env["POSTGRES_PWD"] == db_env["POSTGRES_PASSWORD"]
    assert env_of(job)["SQL_PASSWORD"] == db_env["POSTGRES_PASSWORD"]


def test_start_order(services: dict[str, dict[str, Any]]) -> None:
    setup = search_attribute_job(services)
    api, worker, migrate = (depends_on(services[n]) for n in ("api", "worker", "migrate"))
    assert api.get("migrate") == "service_completed_successfully"
    assert worker.get("migrate") == "service_completed_successfully"
    assert worker.get(setup) == "service_completed_successfully"
    assert any(cond == "service_healthy" for cond in migrate.values())


def test_dependency_conditions_can_be_met(
    services: dict[str, dict[str, Any]], dockerfile: list[tuple[str, str]]
) -> None:
    _, stage = final_stage(dockerfile)
    app_image_checks = any(keyword == "HEALTHCHECK" for keyword, _ in stage)
    for name, service in services.items():
        for target, condition in depends_on(service).items():
            assert target in services, f"{name} depends on unknown service {target}"
            dep = services[target]
            if condition == "service_healthy":
                assert healthcheck_enabled(dep, "build" in dep and app_image_checks), (
                    f"{name} waits for {target} to be healthy, which has no healthcheck"
                )
            elif condition == "service_completed_successfully":
                restart = str(dep.get("restart", "no"))
                assert restart == "no" or restart.startswith("on-failure"), (
                    f"{target} is a one-shot job: restarting it would never let {name} start"
                )


# --- Dockerfile ------------------------------------------------------------------------


def test_dockerfile_runtime_image(dockerfile: list[tuple[str, str]]) -> None:
    base, stage = final_stage(dockerfile)
    assert base.startswith("python:3.11-slim"), base
    users = [value for keyword, value in stage if keyword == "USER"]
    assert users, "the runtime stage must switch to a non-root user"
    assert users[-1].split(":")[0] not in ("root", "0")
    env = env_instructions(stage)
    assert env.get("CARFLOW_API_HOST") == "0.0.0.0"
    exposed = {v.split("/")[0] for k, value in stage if k == "EXPOSE" for v in value.split()}
    port = env.get("CARFLOW_API_PORT", str(Settings.model_fields["api_port"].default))
    assert port in exposed


def test_dockerfile_installs_the_pdf_libraries(dockerfile: list[tuple[str, str]]) -> None:
    _, stage = final_stage(dockerfile)
    words = {
        word
        for keyword, value in stage
        if keyword == "RUN" and "apt-get install" in value
        for word in shlex.split(value)
    }
    missing = {"libpango-1.0-0", "libpangoft2-1.0-0", "fonts-dejavu-core"} - words
    assert not missing, f"WeasyPrint needs {sorted(missing)} at run time"


def test_dockerfile_puts_the_venv_on_path(dockerfile: list[tuple[str, str]]) -> None:
    venvs = [
        match.group(1)
        for keyword, value in dockerfile
        if keyword == "RUN"
        for match in re.finditer(r"-m venv (\S+)", value)
    ]
    _, stage = final_stage(dockerfile)
    path = env_instructions(stage).get("PATH", "")
    for venv in venvs:
        assert f"{venv}/bin" in path.split(":"), f"`carflow` lives in {venv}/bin"
        assert any(k == "COPY" and venv in v and "--from=" in v for k, v in stage)


def commands(
    services: Mapping[str, Any], dockerfile: list[tuple[str, str]]
) -> Iterator[tuple[str, list[str]]]:
    _, stage = final_stage(dockerfile)
    cmds = [value for keyword, value in stage if keyword == "CMD"]
    assert cmds, "the Dockerfile has no CMD"
    assert cmds[-1].startswith("["), 'use the exec form: CMD ["carflow", "api"]'
    yield "Dockerfile CMD", json.loads(cmds[-1])
    for name in APP_SERVICES:
        yield name, command_of(services[name])


def test_commands_exist(
    services: dict[str, dict[str, Any]],
    dockerfile: list[tuple[str, str]],
    pyproject: dict[str, Any],
) -> None:
    scripts = pyproject["project"]["scripts"]
    modules = pyproject["tool"]["setuptools"].get("py-modules", [])
    _, stage = final_stage(dockerfile)
    workdirs = [value for keyword, value in stage if keyword == "WORKDIR"]
    workdir = PurePosixPath(workdirs[-1] if workdirs else "/")
    for where, argv in commands(services, dockerfile):
        assert argv, f"{where}: empty command"
        if argv[0] in ("python", "python3"):
            script = argv[1]
            assert (ROOT / script).is_file(), f"{where}: {script} is not in the repository"
            assert Path(script).stem in modules, f"{where}: {script} is not packaged"
            copied = False
            for keyword, value in stage:
                if keyword != "COPY":
                    continue
                words = [w for w in shlex.split(value) if not w.startswith("--")]
                sources, dest = words[:-1], PurePosixPath(workdir, words[-1])
                if any(PurePosixPath(s).name == script for s in sources) and dest in (
                    workdir,
                    workdir / script,
                ):
                    copied = True
            assert copied, f"{where}: {script} is not copied into {workdir}"
        else:
            assert argv[0] in scripts, f"{where}: {argv[0]} is not a [project.scripts] entry"
    assert [argv for where, argv in commands(services, dockerfile)][0] == ["carflow", "api"]


def test_only_the_api_keeps_the_http_healthcheck(
    services: dict[str, dict[str, Any]], dockerfile: list[tuple[str, str]]
) -> None:
    _, stage = final_stage(dockerfile)
    checks = [value for keyword, value in stage if keyword == "HEALTHCHECK"]
    assert checks and "/healthz" in checks[-1], "the image should keep its /healthz HEALTHCHECK (for the API)"
    for name in APP_SERVICES:
        serves_http = command_of(services[name])[:2] == ["carflow", "api"]
        assert healthcheck_enabled(services[name], True) == serves_http, (
            f"{name}: the image's /healthz check only makes sense for the API"
        )


def test_dockerignore_keeps_local_state_out_of_the_image() -> None:
    patterns = {
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", "var", ".git"} <= patterns


def test_deployment_guide_lists_every_search_attribute() -> None:
    """The manual commands in docs/deployment.md (self-hosted CLI and Temporal Cloud)."""
    doc = DEPLOYMENT_DOC.read_text()
    cli = dict(re.findall(r"search-attribute create .*--name (\S+) --type (\S+)", doc))
    cloud = dict(re.findall(r"--search-attribute (\w+)=(\w+)", doc))
    assert cli == CLI_TYPES
    assert cloud == CLI_TYPES
