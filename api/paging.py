"""One page of a list the API answers, and how many items there are in all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Found:
    """What a page schema (`items`, `total`, `page`, `page_size`) is validated from."""

    items: list[Any]
    total: int
    page: int
    page_size: int


async def fetch_page(session: AsyncSession, query: Select[Any], page: int, page_size: int) -> Found:
    """Page `page` (from 1) of `query`'s rows; `query` orders them stably (ties broken by id)."""
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = await session.scalars(query.offset((page - 1) * page_size).limit(page_size))
    return Found(list(rows), total, page, page_size)
