"""The bare baseline of `bench/reads.py`: FastAPI + SQLAlchemy, nothing else.

`GET /q/{name}` runs the one SELECT Carflow's endpoint `name` was seen running (captured by
the benchmark, same SQL text, same parameters) on the same database, and answers its rows
as JSON: no authentication, no count, no schema validation. What Carflow costs beyond that
is its own overhead.

Run by the benchmark: `BENCH_BARE_STATEMENTS=file.json CARFLOW_DATABASE_URL=... uvicorn
bench.bare_reads:app`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import create_async_engine


def decode(value: Any) -> Any:
    """A parameter as `bench.reads.encode` wrote it."""
    if isinstance(value, dict) and "t" in value:
        kind, raw = value["t"], value["v"]
        if kind == "uuid":
            return uuid.UUID(raw)
        if kind == "datetime":
            return dt.datetime.fromisoformat(raw)
        if kind == "date":
            return dt.date.fromisoformat(raw)
        if kind == "list":
            return [decode(v) for v in raw]
    return value


def _json(value: Any) -> Any:
    if isinstance(value, (uuid.UUID, dt.date, dt.datetime)):
        return str(value)
    return value


STATEMENTS: dict[str, tuple[str, tuple[Any, ...]]] = {}
if os.environ.get("BENCH_BARE_STATEMENTS"):
    with open(os.environ["BENCH_BARE_STATEMENTS"]) as source:
        STATEMENTS = {
            name: (found["sql"], tuple(decode(p) for p in found["params"]))
            for name, found in json.load(source).items()
        }

# The same server setting as Carflow's connections (db/session.py): a custom plan per run.
engine = create_async_engine(
    os.environ.get("CARFLOW_DATABASE_URL", "postgresql+asyncpg://localhost/none"),
    connect_args={"server_settings": {"plan_cache_mode": "force_custom_plan"}},
)
app = FastAPI()


@app.get("/q/{name}")
async def run(name: str) -> JSONResponse:
    if name not in STATEMENTS:
        raise HTTPException(404)
    sql, params = STATEMENTS[name]
    async with engine.connect() as connection:
        result = await connection.exec_driver_sql(sql, params)
        rows = [{k: _json(v) for k, v in row._mapping.items()} for row in result]
    return JSONResponse({"items": rows})


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
