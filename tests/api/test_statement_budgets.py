"""SQL statements per request of the main lists: a budget each, so a regression fails CI.

Counted with a listener on the app's engine (every statement sent, authentication
included), on data from `carflow seed` (tens of rows per page, counts beyond a page).
Raising a budget is a decision to write down here, with why.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from cli.seed import seed
from db.models import Proposal

# Authentication: the token joined with its account, one statement (test_request_cost.py).
# A list: its page and the capped count in one statement (api/paging.py).
LIST = 2
BUDGETS = {
    "proposals page 1": LIST,
    "proposals cursor page": LIST,
    "proposals state filter": LIST,
    "proposals search": LIST,
    "proposal detail": 2,
    "listings make and max price": 1,  # public: no authentication
    # Counts of every section in one statement, the page from the first section, the
    # failed emails' outbox rows; the proposals read by the section are not read again.
    "ADV stuck": 4,
}


@contextlib.contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        seen.append(" ".join(statement.split())[:200])

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


@pytest.fixture
async def seeded(session_factory):  # noqa: ANN201
    done = await seed(session_factory, proposals=600, listings=400, dealers=2)
    async with session_factory() as session:
        # A stuck list longer than its page: proposals whose email gave up.
        stuck = (await session.scalars(select(Proposal.id).where(Proposal.state == "sent").limit(8))).all()
        await session.execute(update(Proposal).where(Proposal.id.in_(stuck)).values(email_failed=True))
        await session.commit()
    return done


async def test_main_lists_stay_within_their_statement_budget(client: httpx.AsyncClient, app, seeded) -> None:
    dealer = {"Authorization": f"Bearer {seeded.dealers[0][1]}"}
    staff = {"Authorization": f"Bearer {seeded.staff_token}"}
    first = (await client.get("/api/v1/proposals", headers=dealer)).json()
    assert first["next_cursor"] and first["total"] > len(first["items"])
    requests = {
        "proposals page 1": ("/api/v1/proposals", dealer),
        "proposals cursor page": ("/api/v1/proposals?" + urlencode({"cursor": first["next_cursor"]}), dealer),
        "proposals state filter": ("/api/v1/proposals?state=sent&state=viewed", dealer),
        "proposals search": ("/api/v1/proposals?q=dubois", dealer),
        "proposal detail": (f"/api/v1/proposals/{first['items'][0]['id']}", dealer),
        "listings make and max price": (
            "/api/v1/listings?" + urlencode({"make": "citroen", "max_price_cents": 3_000_000}),
            {},
        ),
        "ADV stuck": ("/api/v1/adv/workflows?stuck=true&page_size=5", staff),
    }
    used = {}
    for name, (path, headers) in requests.items():
        assert (await client.get(path, headers=headers)).status_code == 200, name  # warm the pool
        with statements(app.state.engine) as seen:
            response = await client.get(path, headers=headers)
        assert response.status_code == 200, (name, response.text[:300])
        assert response.json().get("items") or name == "proposal detail", name
        used[name] = list(seen)
    over = {name: seen for name, seen in used.items() if len(seen) > BUDGETS[name]}
    assert not over, {name: (BUDGETS[name], len(seen), seen) for name, seen in over.items()}


async def test_the_json_lists_read_only_the_columns_they_show(client: httpx.AsyncClient, app, seeded) -> None:
    """The proposals list and the public search select their items' columns, not whole rows
    (api/proposals/views.py ITEM_COLUMNS, api/listings/service.py CARD_COLUMNS): neither the
    IBAN, the buyer's token hash nor an inspection's summary leaves the database for a list."""
    dealer = {"Authorization": f"Bearer {seeded.dealers[0][1]}"}
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        seen.append(" ".join(statement.split()))

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", record)
    try:
        for path, headers, table, never in (
            ("/api/v1/proposals", dealer, "proposals", ("iban_encrypted", "buyer_token_hash", "search_text")),
            (
                "/api/v1/listings?make=citroen",
                {},
                "listings",
                ("summary", "report_token_hash", "inspection_place"),
            ),
        ):
            seen.clear()
            response = await client.get(path, headers=headers)
            assert response.status_code == 200 and response.json()["items"], path
            [page] = [s for s in seen if s.startswith("SELECT") and f"FROM {table}" in s]
            selected = page.split(" FROM ", 1)[0]  # up to the capped count's subquery
            assert selected.startswith(f"SELECT {table}.id,") and not [c for c in never if c in selected], (
                path,
                selected,
            )
    finally:
        event.remove(app.state.engine.sync_engine, "before_cursor_execute", record)


async def test_the_hot_lists_build_their_statements_once_per_shape(
    client: httpx.AsyncClient, app, seeded
) -> None:
    """Each request of the proposals list and the public search runs a statement built once
    for its shape (filters given, words, cursor or not), the request's values bound at
    execution (api/paging.py `bound`): building and keying one per request cost more CPU
    than executing it. Other values of the same shape: the very same statement object."""
    executed: list[int] = []

    def record(_conn, clauseelement, *_args) -> None:  # noqa: ANN001
        executed.append(id(clauseelement))

    event.listen(app.state.engine.sync_engine, "before_execute", record)
    dealers = [{"Authorization": f"Bearer {token}"} for _, token in seeded.dealers]
    try:
        for same_shape in (
            [("/api/v1/proposals?q=dubois", dealers[0]), ("/api/v1/proposals?q=martin", dealers[1])],
            [("/api/v1/proposals?state=sent", dealers[0]), ("/api/v1/proposals?state=viewed", dealers[0])],
            [("/api/v1/listings?make=citroen", {}), ("/api/v1/listings?make=peugeot", {})],
        ):
            pages = []
            for path, headers in same_shape:
                executed.clear()
                assert (await client.get(path, headers=headers)).status_code == 200, path
                pages.append(executed[-1])  # the page's statement comes after authentication
            assert pages[0] == pages[1], same_shape
    finally:
        event.remove(app.state.engine.sync_engine, "before_execute", record)


async def test_the_hot_reads_run_without_a_transaction_and_actions_within_one(
    client: httpx.AsyncClient, app, seeded
) -> None:
    """Routes marked `read_only` (api/deps.py) read in autocommit: no BEGIN and ROLLBACK
    round trips around their two statements. Any other route keeps its transaction."""
    levels: dict[str, set[str]] = {}
    current = [""]

    def record(conn, *_args) -> None:  # noqa: ANN001
        levels.setdefault(current[0], set()).add(
            conn.get_execution_options().get("isolation_level", "default")
        )

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", record)
    dealer = {"Authorization": f"Bearer {seeded.dealers[0][1]}"}
    try:
        first = (await client.get("/api/v1/proposals", headers=dealer)).json()["items"][0]
        for name, path, headers in (
            ("list", "/api/v1/proposals?state=sent", dealer),
            ("detail", f"/api/v1/proposals/{first['id']}", dealer),
            ("search", "/api/v1/listings?make=citroen", {}),
            ("sellers", "/api/v1/sellers", dealer),  # not marked: in a transaction as before
        ):
            current[0] = name
            assert (await client.get(path, headers=headers)).status_code == 200, path
    finally:
        event.remove(app.state.engine.sync_engine, "before_cursor_execute", record)
    assert levels["list"] == levels["detail"] == levels["search"] == {"AUTOCOMMIT"}
    assert len(levels["sellers"]) == 1 and "AUTOCOMMIT" not in levels["sellers"]


async def test_the_lists_answered_as_plain_json_are_exactly_their_schema(
    client: httpx.AsyncClient, seeded
) -> None:
    """The proposals list and the public search skip FastAPI's response validation
    (api/json_body.py): what they answer validates against their documented model, and the
    model writes it back identically (same fields, same datetime, date and UUID forms)."""
    from api.listings.schemas import PublicListingPage
    from api.proposals.schemas import ProposalPage

    dealer = {"Authorization": f"Bearer {seeded.dealers[0][1]}"}
    first = (await client.get("/api/v1/proposals", headers=dealer)).json()
    for path, headers, model in (
        ("/api/v1/proposals", dealer, ProposalPage),
        ("/api/v1/proposals?" + urlencode({"cursor": first["next_cursor"]}), dealer, ProposalPage),
        ("/api/v1/proposals?state=signed&q=dubois", dealer, ProposalPage),
        ("/api/v1/listings?max_price_cents=3000000", {}, PublicListingPage),
    ):
        response = await client.get(path, headers=headers)
        assert response.status_code == 200 and response.headers["content-type"] == "application/json"
        answered = response.json()
        assert answered["items"] or "q=" in path, path
        assert model.model_validate_json(response.content).model_dump(mode="json") == answered, path
