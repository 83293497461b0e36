"""One page of a list the API answers: by page number or by cursor (keyset), with a cheap count.

Every list is ordered newest first on a few columns ending with the id (`Keyset`), with an
index of the same columns behind it (db/models.py). A cursor is the last row's key, opaque
to clients (base64url JSON); the next page is "the rows strictly after that key", so rows
inserted meanwhile never shift it: no duplicate, no skip. The page-number form (OFFSET) is
kept for compatibility.

The total is counted up to `COUNT_CAP` rows only (a LIMITed scan of the same index):
beyond, `total` is the cap and `total_exact` false ("more than total"). The count is a
scalar subquery of the page's own statement: one round trip for both.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import Integer, Select, TypeDecorator, bindparam, func, literal_column, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from api.errors import ApiError

COUNT_CAP = 1000
MAX_PAGE = 10_000


@dataclass(frozen=True)
class PageParams:
    """What the client asked: a page number or a cursor, and how many rows."""

    page: int
    page_size: int
    cursor: str | None


def page_params(default_size: int) -> Callable[..., Awaitable[PageParams]]:
    """The `page`, `page_size` and `cursor` query parameters of a list, as one dependency."""

    async def dependency(  # async: a plain `def` dependency runs in the thread pool (api/deps.py)
        page: Annotated[int | None, Query(ge=1, le=MAX_PAGE, description="Page number (from 1).")] = None,
        page_size: Annotated[int, Query(ge=1, le=100)] = default_size,
        cursor: Annotated[
            str | None,
            Query(max_length=500, description="`next_cursor` of the previous page: the rows after it."),
        ] = None,
    ) -> PageParams:
        if cursor is not None and page is not None:
            raise ApiError(
                422, "cursor_with_page", "Give either `page` or `cursor`, not both.", parameter="cursor"
            )
        return PageParams(page or 1, page_size, cursor)

    return dependency


@dataclass(frozen=True)
class Keyset:
    """A list's order: on `columns`, all descending (or all ascending), the last unique (the id).

    `name` is written into the cursor, so one list's cursor is refused by another.
    """

    name: str
    columns: tuple[InstrumentedAttribute[Any], ...]
    descending: bool = True

    def ordered(self, query: Select[Any]) -> Select[Any]:
        return query.order_by(*(column.desc() if self.descending else column for column in self.columns))

    def after(self, query: Select[Any]) -> Select[Any]:
        """The rows strictly after the key given as the `after_0`, `after_1`… bind parameters
        (`values_after`)."""
        # A row-value comparison is one range on the (ascending) index, read either way.
        bound = tuple_(*(bindparam(f"after_{i}", type_=column.type) for i, column in enumerate(self.columns)))
        row = tuple_(*self.columns)
        return query.where(row < bound if self.descending else row > bound)

    def values_after(self, cursor: str) -> dict[str, Any]:
        return {f"after_{i}": value for i, value in enumerate(self.decode(cursor))}

    def encode(self, item: Any) -> str:
        values = [_plain(getattr(item, column.key)) for column in self.columns]
        raw = json.dumps({"l": self.name, "k": values}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def decode(self, cursor: str) -> tuple[Any, ...]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            data = json.loads(raw)
            if not isinstance(data, dict) or data.get("l") != self.name:
                raise ValueError("another list's cursor")
            values = data["k"]
            if not isinstance(values, list) or len(values) != len(self.columns):
                raise ValueError("wrong length")
            return tuple(_typed(column, value) for column, value in zip(self.columns, values, strict=True))
        except (binascii.Error, UnicodeDecodeError, ValueError, KeyError, TypeError):
            raise ApiError(
                422,
                "invalid_cursor",
                "This cursor is not one this list gave; start again without it.",
                parameter="cursor",
            ) from None


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _typed(column: InstrumentedAttribute[Any], value: Any) -> Any:
    column_type = column.type
    # A TypeDecorator (UTCDateTime) says `object`; what it stores is its impl's type.
    python_type = (column_type.impl if isinstance(column_type, TypeDecorator) else column_type).python_type
    if python_type is datetime:
        if not isinstance(value, str):
            raise ValueError("not a datetime")
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive datetime")
        return parsed
    if python_type is uuid.UUID:
        if not isinstance(value, str):
            raise ValueError("not a uuid")
        return uuid.UUID(value)
    if python_type is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError("not an int")
        return value
    raise ValueError(f"no cursor values of type {python_type.__name__}")


@dataclass(frozen=True)
class Found:
    """What a page schema (`items`, `total`, `total_exact`, `page`, `page_size`,
    `next_cursor`) is validated from."""

    items: list[Any]
    total: int
    total_exact: bool
    page: int | None  # None for a page asked by cursor
    page_size: int
    next_cursor: str | None


def page_statement(
    query: Select[Any],
    keyset: Keyset,
    *,
    by_cursor: bool,
    widen: Callable[[Select[Any]], Select[Any]] | None = None,
) -> Select[Any]:
    """The statement of a page (one row more than asked: whether another follows), its
    paging values left as bind parameters (`page_values`): one statement serves every page
    of its kind, so a list whose `query` is built once per shape builds this once too.

    Its last column is the capped count of `query` (`count_query`, as a scalar subquery that
    the database runs once): the page and its total in one round trip.
    """
    ordered = keyset.ordered(widen(query) if widen is not None else query)
    ordered = keyset.after(ordered) if by_cursor else ordered.offset(bindparam("page_offset", type_=Integer))
    total = count_query(query).scalar_subquery().correlate(None).label("capped_total")
    return ordered.add_columns(total).limit(bindparam("page_limit", type_=Integer))


def page_values(keyset: Keyset, params: PageParams) -> dict[str, Any]:
    """The values of `page_statement`'s bind parameters for the asked page."""
    values: dict[str, Any] = {"page_limit": params.page_size + 1}
    if params.cursor is not None:
        values.update(keyset.values_after(params.cursor))
    else:
        values["page_offset"] = (params.page - 1) * params.page_size
    return values


def page_query(
    query: Select[Any],
    keyset: Keyset,
    params: PageParams,
    widen: Callable[[Select[Any]], Select[Any]] | None = None,
) -> Select[Any]:
    """The asked page's statement with its values bound: what the API runs, for tests to
    EXPLAIN (tests/db/test_query_plans.py)."""
    statement = page_statement(query, keyset, by_cursor=params.cursor is not None, widen=widen)
    return statement.params(page_values(keyset, params))


# Page statements of the queries built once per shape (`fetch_page(..., bound=...)`), by the
# query's identity. The query is kept with its statement, so its id stays its own.
_REUSED: dict[tuple[int, str, bool, int], tuple[Select[Any], Select[Any]]] = {}


def _reused_statement(
    query: Select[Any], keyset: Keyset, by_cursor: bool, widen: Callable[[Select[Any]], Select[Any]] | None
) -> Select[Any]:
    key = (id(query), keyset.name, by_cursor, id(widen))
    found = _REUSED.get(key)
    if found is None:
        found = _REUSED[key] = (query, page_statement(query, keyset, by_cursor=by_cursor, widen=widen))
    return found[1]


def count_query(query: Select[Any], cap: int | None = None) -> Select[Any]:
    """How many rows `query` has, counting at most `cap + 1` of them (`COUNT_CAP`)."""
    cap = COUNT_CAP if cap is None else cap
    capped: Select[Any] = (
        query.with_only_columns(literal_column("1"), maintain_column_froms=True).order_by(None).limit(cap + 1)
    )
    return select(func.count()).select_from(capped.subquery())


async def fetch_page(
    session: AsyncSession,
    query: Select[Any],
    keyset: Keyset,
    params: PageParams,
    *,
    widen: Callable[[Select[Any]], Select[Any]] | None = None,
    as_rows: bool = False,
    bound: Mapping[str, Any] | None = None,
) -> Found:
    """The asked page of `query`'s rows (one entity, filtered, unordered) in the keyset's order.

    `widen` adds what the page shows besides the entity (e.g. a listing's inspection, joined):
    the items are then rows whose first element is the entity. The count reads `query` alone.

    `as_rows`: `query` selects plain columns (the keyset's among them), and the items are the
    result rows themselves (each also carrying `capped_total`). Hot JSON lists use it: loading
    ORM entities cost more CPU than the query itself.

    `bound`: `query` is built once per shape (its filter values are bind parameters) and these
    are the values. Its page statements are then built once as well: building and keying a
    statement for each request cost the hot lists about three times executing it.
    """
    by_cursor = params.cursor is not None
    if bound is None:
        statement = page_statement(query, keyset, by_cursor=by_cursor, widen=widen)
    else:
        statement = _reused_statement(query, keyset, by_cursor, widen)
    values = {**(bound or {}), **page_values(keyset, params)}
    # Plain columns need none of the ORM's result machinery: the session's connection runs them.
    runner = await session.connection() if as_rows else session
    rows = list((await runner.execute(statement, values)).all())
    more = len(rows) > params.page_size
    items: list[Any]
    if as_rows:
        items = rows[: params.page_size]
    else:
        items = [tuple(row[:-1]) if widen is not None else row[0] for row in rows[: params.page_size]]
    last = items[-1] if items else None
    keyed = last[0] if widen is not None and not as_rows and last is not None else last
    next_cursor = keyset.encode(keyed) if more and keyed is not None else None
    if rows:
        counted = int(rows[0][-1])
    elif not by_cursor and params.page == 1:
        counted = 0
    else:  # past the end: no row carried the count
        counted = int(await session.scalar(count_query(query), dict(bound or {})) or 0)
    return Found(
        items,
        min(counted, COUNT_CAP),
        counted <= COUNT_CAP,
        None if by_cursor else params.page,
        params.page_size,
        next_cursor,
    )


class PageFields(BaseModel):
    """The fields every page of a list answers besides its `items`."""

    total: int = Field(description=f"How many items match, counted up to {COUNT_CAP}.")
    total_exact: bool = Field(description="False: more items than `total` match (the count stopped there).")
    page: int | None = Field(description="The page number asked; null for a page asked by cursor.")
    page_size: int
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
