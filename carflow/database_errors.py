"""Turn a database driver's failure into one line that names the setting to fix."""

from __future__ import annotations

from carflow.settings import Settings


def describe_database_error(settings: Settings, exc: BaseException) -> str:
    url = settings.database.render_as_string(hide_password=True)
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    if isinstance(exc, ConnectionRefusedError) or "refused" in reason.lower():
        reason = "connection refused"
    elif isinstance(exc, TimeoutError):
        reason = "no answer"
    return f"cannot use the database at CARFLOW_DATABASE_URL={url}: {reason[:200]}"


def is_database_error(exc: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(exc, OperationalError | DBAPIError | ConnectionError | TimeoutError):
        return True
    module = type(exc).__module__
    return module.startswith(("asyncpg", "sqlite3", "aiosqlite")) or isinstance(exc, OSError)
