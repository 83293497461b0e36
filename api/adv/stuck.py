"""The ADV lists from indexed data: no workflow is described to build them.

The stuck list is a sequence of sections, one per cause and source, each an indexed
query ordered oldest problem first (the order of `CAUSES` in service.py):

1. Temporal visibility, `ExecutionStatus="Running"` and a problem the server itself
   reports: `TemporalReportedProblems` (a workflow task failing again and again; the
   dev server sets it after `adv_stuck_attempts` failures, see cli/devserver.py) or
   `TemporalPauseInfo` (an operator paused an activity), as the process's `ProblemWatch`
   last saw them (api/adv/visibility.py: at most `adv_visibility_refresh_s` old, refreshed
   in the background). Only these workflows, and only those on the page, are described
   (for the workflow task's error message).
2. `activity_failures`: the attempts the worker's interceptor recorded
   (activities/failure_log.py), past `adv_stuck_attempts` or `adv_stuck_minutes`.
3. The read model: proposals, then listings, with `email_failed` (partial index).
4. The read model: proposals waiting for the buyer's signature for longer than
   `adv_signing_stuck_hours` (index on state, updated_at).

A workflow shows up once per cause it has (an email given up and a signing too long are
one: the email comes first); duplicates on one page are merged into the first cause. Pages follow an
opaque cursor (`next_cursor`: the section and the last key, keyset) or, for compatibility,
a page number (an offset over the sections' counts).

The running list (`stuck=false`) is the read model alone: proposals then listings whose
lifecycle is not over (or that wait for an email retry), newest first, each flagged stuck
from the same indexed sources (the visibility problems excepted: they show in the stuck
list). While Temporal cannot be asked, the stuck list raises `WorkflowsUnseen`: it would
otherwise be incomplete and read as "nothing stuck".
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.adv.visibility import ProblemWatch
from carflow.settings import Settings
from db.models import ActivityFailure, Inspection, Listing, Proposal
from statemachines.proposal import Actor, from_read_model
from workflows.kinds import KINDS, kind_of
from workflows.listing_contract import LISTING
from workflows.proposal_contract import PROPOSAL

WORKFLOW_TASK_FAILING = "workflow_task_failing"
ACTIVITY_PAUSED = "activity_paused"
ACTIVITY_FAILING = "activity_failing"
EMAIL_FAILED_CAUSE = "email_failed"
SIGNING_OPEN = "signing_open"


class BadCursor(ValueError):
    pass


@dataclass
class Entry:
    """One row of a list, before its label and state are read from the read model."""

    kind: str
    id: str
    workflow_id: str
    stuck: bool = False
    cause: str | None = None
    reason: str | None = None
    since: datetime | None = None
    attempts: int | None = None
    activity: str | None = None
    state: str | None = None
    started_at: datetime | None = None
    email_failed: bool = False
    email_error: str | None = None
    key: tuple[str, ...] = ()  # the section's sort key of this row: where a cursor resumes
    row: Any = None  # the read model's row, when the section read it (not read again)


@dataclass(frozen=True)
class Position:
    """Where a section resumes: after a key (cursor), or after `offset` rows (page number)."""

    key: tuple[str, ...] | None = None
    offset: int = 0


Fetch = Callable[[Position, int], Awaitable[list[Entry]]]


@dataclass(frozen=True)
class Section:
    name: str
    count: Callable[[], Awaitable[int]]
    fetch: Fetch  # (where, how many) -> rows, oldest problem first


@dataclass
class Listed:
    entries: list[Entry]
    total: int
    next_cursor: str | None


def encode_cursor(section: str, key: tuple[str, ...]) -> str:
    raw = json.dumps({"s": section, "k": list(key)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, tuple[str, ...]]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        section, key = str(data["s"]), tuple(str(part) for part in data["k"])
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise BadCursor("cursor is not one this list gave") from exc
    return section, key


async def walk(sections: Sequence[Section], *, cursor: str | None, page: int, page_size: int) -> Listed:
    """One page over the sections in order, from a cursor or a page number."""
    counts = [await section.count() for section in sections]
    names = [section.name for section in sections]
    start, position = 0, Position(offset=(page - 1) * page_size)
    if cursor is not None:
        name, key = decode_cursor(cursor)
        if name not in names:
            raise BadCursor("cursor is not one this list gave")
        start, position = names.index(name), Position(key=key)
    else:
        while start < len(sections) and position.offset >= counts[start]:
            position = Position(offset=position.offset - counts[start])
            start += 1
    entries: list[Entry] = []
    next_cursor = None
    for index in range(start, len(sections)):
        wanted = page_size - len(entries)
        rows = await sections[index].fetch(position, wanted + 1)
        resumed_after = position.key or ()
        position = Position()
        entries += rows[:wanted]
        if len(rows) > wanted:  # this section goes on past the page
            next_cursor = encode_cursor(names[index], rows[wanted - 1].key if wanted else resumed_after)
            break
        if len(entries) == page_size:
            later = next((i for i in range(index + 1, len(sections)) if counts[i]), None)
            if later is not None:
                next_cursor = encode_cursor(names[later], ())
            break
    return Listed(_merged(entries), sum(counts), next_cursor)


def _merged(entries: list[Entry]) -> list[Entry]:
    """One row per workflow on a page: the first cause found (sections come by priority)."""
    seen: set[str] = set()
    kept = []
    for entry in entries:
        if entry.workflow_id not in seen:
            seen.add(entry.workflow_id)
            kept.append(entry)
    return kept


class AdvLists:
    def __init__(
        self,
        settings: Settings,
        session: AsyncSession,
        client: Client,
        now: Callable[[], datetime],
        watch: ProblemWatch,
    ) -> None:
        self.settings = settings
        self.session = session
        self.client = client
        self.watch = watch
        self.now = now()
        self._problems: list[Any] | None = None
        # Count statements not run yet, by id of their query; the first count asked runs them
        # all in one SELECT of scalar subqueries (one round trip instead of one per section).
        self._uncounted: dict[int, Select[Any]] = {}
        self._counted: dict[int, int] = {}

    # --- the stuck list ------------------------------------------------------------------

    def stuck_sections(self, kind: str | None) -> list[Section]:
        wanted = [k for k in (PROPOSAL.name, LISTING.name) if kind in (None, k)]
        sections = [Section("visibility", self._count_visibility(kind), self._fetch_visibility(kind))]
        failures = self._failing_activities(kind)
        sections.append(
            Section(
                ACTIVITY_FAILING,
                self._counter(failures),
                self._keyset(
                    failures,
                    (
                        ActivityFailure.first_failed_at,
                        ActivityFailure.workflow_run_id,
                        ActivityFailure.activity_id,
                    ),
                    self._failure_entry,
                ),
            )
        )
        for name in wanted:
            table: Any = Proposal if name == PROPOSAL.name else Listing
            query = select(table).where(table.email_failed.is_(True))
            sections.append(
                Section(
                    f"{EMAIL_FAILED_CAUSE}:{name}",
                    self._counter(query),
                    self._keyset(query, (table.updated_at, table.id), self._email_entry(name)),
                )
            )
        if PROPOSAL.name in wanted:
            query = select(Proposal).where(
                Proposal.state.in_(self.signing_states()),
                Proposal.updated_at <= self._signing_threshold(),
                Proposal.email_failed.is_(False),
            )
            sections.append(
                Section(
                    SIGNING_OPEN,
                    self._counter(query),
                    self._keyset(query, (Proposal.updated_at, Proposal.id), self._signing_entry),
                )
            )
        return sections

    def signing_states(self) -> list[str]:
        return signing_states()

    def _signing_threshold(self) -> datetime:
        return self.now - timedelta(hours=self.settings.adv_signing_stuck_hours)

    def _stuck_failure(self) -> ColumnElement[bool]:
        return or_(
            ActivityFailure.attempt >= self.settings.adv_stuck_attempts,
            ActivityFailure.first_failed_at <= self.now - timedelta(minutes=self.settings.adv_stuck_minutes),
        )

    def _failing_activities(self, kind: str | None) -> Select[Any]:
        query = select(ActivityFailure).where(self._stuck_failure())
        return query if kind is None else query.where(ActivityFailure.kind == kind)

    def _counter(self, query: Select[Any]) -> Callable[[], Awaitable[int]]:
        # count(*) over the criteria themselves, so the index can answer (no row fetched).
        counted = query.with_only_columns(func.count(), maintain_column_froms=True)
        self._uncounted[id(counted)] = counted

        async def count() -> int:
            if id(counted) not in self._counted:
                await self._count_all()
            return self._counted[id(counted)]

        return count

    async def _count_all(self) -> None:
        pending = list(self._uncounted.items())
        self._uncounted.clear()
        values = (
            await self.session.execute(select(*(q.scalar_subquery().correlate(None) for _, q in pending)))
        ).one()
        for (key, _), value in zip(pending, values, strict=True):
            self._counted[key] = int(value or 0)

    def _keyset(self, query: Select[Any], order: Sequence[Any], entry: Callable[[Any], Entry]) -> Fetch:
        async def fetch(position: Position, limit: int) -> list[Entry]:
            ordered = query.order_by(*order).limit(limit)
            if position.key:
                # Bound with the columns' own types (a bare datetime would bind differently).
                bound = [literal(v, c.type) for c, v in zip(order, _typed(order, position.key), strict=True)]
                ordered = ordered.where(tuple_(*order) > tuple_(*bound))
            elif position.offset:
                ordered = ordered.offset(position.offset)
            entries = []
            for row in await self.session.scalars(ordered):
                made = entry(row)
                made.key = tuple(_text(getattr(row, column.key)) for column in order)
                if isinstance(row, (Proposal, Listing)):
                    made.row = row
                entries.append(made)
            return entries

        return fetch

    def _failure_entry(self, row: ActivityFailure) -> Entry:
        failures = row.attempt
        return Entry(
            row.kind,
            row.target_id,
            row.workflow_id,
            stuck=True,
            cause=ACTIVITY_FAILING,
            reason=f"{row.activity_type} failing ({failures} failed attempt{'s' if failures > 1 else ''}): "
            f"{row.last_error or 'no message'}",
            since=row.first_failed_at,
            attempts=row.attempt + 1,  # the attempt under way (or waiting in backoff)
            activity=row.activity_type,
        )

    def _email_entry(self, kind: str) -> Callable[[Proposal | Listing], Entry]:
        def entry(row: Proposal | Listing) -> Entry:
            return Entry(
                kind,
                str(row.id),
                KINDS[kind].workflow_id(row.id),
                stuck=True,
                cause=EMAIL_FAILED_CAUSE,
                reason="email failed, waiting for an ADV retry: "
                + (row.email_error or "see the workflow's current details"),
                since=row.updated_at,
            )

        return entry

    def _signing_entry(self, row: Proposal) -> Entry:
        open_for = self.now - row.updated_at
        hours = int(open_for.total_seconds() // 3600)
        return Entry(
            PROPOSAL.name,
            str(row.id),
            PROPOSAL.workflow_id(row.id),
            stuck=True,
            cause=SIGNING_OPEN,
            reason=f"signing open for {hours} h (threshold {self.settings.adv_signing_stuck_hours} h): "
            "the buyer has not signed; call them, or let the proposal expire",
            since=row.updated_at,
        )

    # --- visibility: the problems Temporal reports -------------------------------------------

    async def _visibility_problems(self) -> list[Any]:
        if self._problems is None:
            self._problems = await self.watch.problems(self.client)
        return self._problems

    def _count_visibility(self, kind: str | None) -> Callable[[], Awaitable[int]]:
        async def count() -> int:
            return len(await self._visible(kind))

        return count

    async def _visible(self, kind: str | None) -> list[Entry]:
        entries = []
        for execution in await self._visibility_problems():
            parsed = kind_of(execution.id)
            if parsed is None or kind not in (None, parsed[0].name):
                continue
            attributes = {key.name: value for key, value in execution.typed_search_attributes}
            entry = Entry(
                parsed[0].name, parsed[1], execution.id, stuck=True, started_at=execution.start_time
            )
            entry.state = attributes.get(parsed[0].state_attribute.name)
            problems = attributes.get("TemporalReportedProblems") or []
            paused = attributes.get("TemporalPauseInfo") or []
            if any(p.startswith("category=WorkflowTask") for p in problems):
                entry.cause = WORKFLOW_TASK_FAILING
                entry.reason = "workflow task failing: " + ", ".join(problems)
            else:
                types = [p.split("=", 1)[1] for p in paused if p.startswith("property:activityType=")]
                entry.cause, entry.activity = ACTIVITY_PAUSED, (types[0] if types else None)
                entry.reason = (
                    f"activity {', '.join(types) or '?'} is paused; "
                    "`temporal activity unpause` or an ADV retry resumes it"
                )
            entries.append(entry)
        return entries

    def _fetch_visibility(self, kind: str | None) -> Fetch:
        async def fetch(position: Position, limit: int) -> list[Entry]:
            try:
                skip = int(position.key[0]) if position.key else position.offset
            except ValueError as exc:
                raise BadCursor("cursor is not one this list gave") from exc
            entries = (await self._visible(kind))[skip : skip + limit]
            for offset, entry in enumerate(entries, start=skip + 1):
                entry.key = (str(offset),)
            return entries

        return fetch

    # --- the running list ----------------------------------------------------------------------

    def running_sections(self, kind: str | None) -> list[Section]:
        sections = []
        for lifecycle in (PROPOSAL, LISTING):
            if kind not in (None, lifecycle.name):
                continue
            table: Any = Proposal if lifecycle is PROPOSAL else Listing
            query = select(table).where(
                or_(table.state.not_in(list(lifecycle.final_states)), table.email_failed.is_(True))
            )
            sections.append(
                Section(
                    lifecycle.name, self._counter(query), self._newest_first(query, table, lifecycle.name)
                )
            )
        return sections

    def _newest_first(self, query: Select[Any], table: Any, kind: str) -> Fetch:
        async def fetch(position: Position, limit: int) -> list[Entry]:
            ordered = query.order_by(table.created_at.desc(), table.id.desc()).limit(limit)
            if position.key:
                created, row_id = _typed((table.created_at, table.id), position.key)
                ordered = ordered.where(
                    or_(table.created_at < created, and_(table.created_at == created, table.id < row_id))
                )
            elif position.offset:
                ordered = ordered.offset(position.offset)
            entries = []
            for row in await self.session.scalars(ordered):
                made = Entry(kind, str(row.id), KINDS[kind].workflow_id(row.id), row=row)
                made.key = (_text(row.created_at), _text(row.id))
                entries.append(made)
            return entries

        return fetch

    async def flag_stuck(self, entries: list[Entry]) -> None:
        """The running list's rows, flagged from the indexed sources (visibility aside)."""
        by_workflow = {e.workflow_id: e for e in entries}
        if not entries:
            return
        failures = await self.session.scalars(
            select(ActivityFailure)
            .where(ActivityFailure.workflow_id.in_(list(by_workflow)), self._stuck_failure())
            .order_by(ActivityFailure.first_failed_at)
        )
        for row in failures:
            entry = by_workflow[row.workflow_id]
            if not entry.stuck:
                _copy_problem(self._failure_entry(row), entry)
        for kind, rows in (await self._rows(entries)).items():
            for row in rows.values():
                entry = by_workflow[KINDS[kind].workflow_id(row.id)]
                if entry.stuck:
                    continue
                if row.email_failed:
                    _copy_problem(self._email_entry(kind)(row), entry)
                elif (
                    kind == PROPOSAL.name
                    and row.state in signing_states()
                    and row.updated_at <= self._signing_threshold()
                ):
                    _copy_problem(self._signing_entry(row), entry)

    # --- labels and states from the read model, for one page ----------------------------------

    async def _rows(
        self, entries: list[Entry], *, inspections: dict[uuid.UUID, Inspection] | None = None
    ) -> dict[str, dict[str, Any]]:
        """The read model's rows of the entries, by kind and id: those a section read already,
        the others in one query per kind (listings with their inspection into `inspections`,
        when asked)."""
        found: dict[str, dict[str, Any]] = {PROPOSAL.name: {}, LISTING.name: {}}
        for entry in entries:
            if entry.row is not None and entry.kind in found:
                found[entry.kind][entry.id] = entry.row
        for kind in found:
            ids = [_uuid(e.id) for e in entries if e.kind == kind and e.id not in found[kind]]
            ids = [i for i in ids if i is not None]
            if kind == LISTING.name and inspections is not None:
                # Every listing's inspection (the labels), the listings read here joined to it.
                ids += [row.id for row in found[kind].values()]
            if not ids:
                continue
            if kind == PROPOSAL.name:
                for proposal in await self.session.scalars(select(Proposal).where(Proposal.id.in_(ids))):
                    found[kind][str(proposal.id)] = proposal
            elif inspections is None:
                for listing in await self.session.scalars(select(Listing).where(Listing.id.in_(ids))):
                    found[kind][str(listing.id)] = listing
            else:
                joined = select(Listing, Inspection).join(Inspection, Inspection.id == Listing.inspection_id)
                for listing, inspection in await self.session.execute(joined.where(Listing.id.in_(ids))):
                    found[kind].setdefault(str(listing.id), listing)
                    inspections[inspection.id] = inspection
        return found

    async def describe_from_read_model(self, entries: list[Entry]) -> dict[str, str]:
        """Fill state, start, email flag from the read model; the labels, by workflow id."""
        inspections: dict[uuid.UUID, Inspection] = {}
        rows = await self._rows(entries, inspections=inspections)
        labels: dict[str, str] = {}
        for entry in entries:
            row = rows[entry.kind].get(entry.id)
            if row is None:
                continue
            entry.state = row.state
            entry.started_at = row.created_at
            entry.email_failed = row.email_failed
            entry.email_error = row.email_error
            if entry.kind == PROPOSAL.name:
                labels[entry.workflow_id] = (
                    f"{row.buyer_first_name} {row.buyer_last_name} · {row.vehicle_make} "
                    f"{row.vehicle_model} {row.vehicle_registration} · {row.contract_number}"
                )
            elif (inspection := inspections.get(row.inspection_id)) is not None:
                labels[entry.workflow_id] = (
                    f"{inspection.vehicle_make} {inspection.vehicle_model} {inspection.vehicle_registration}"
                    f" · expertise {inspection.reference}"
                )
        return labels


@functools.cache
def signing_states() -> list[str]:
    """The states in which the buyer's signature is awaited: the machine says which (once per
    process: building a machine per state costs milliseconds)."""
    return [
        state.id
        for state in PROPOSAL.machine.states
        if from_read_model(state.id, expires_at=None, withdrawal_deadline=None).can(
            "sign", now=datetime.now(UTC), actor=Actor.BUYER
        )
    ]


def _copy_problem(source: Entry, target: Entry) -> None:
    target.stuck, target.cause, target.reason = True, source.cause, source.reason
    target.since, target.attempts, target.activity = source.since, source.attempts, source.activity


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _typed(order: Sequence[Any], key: tuple[str, ...]) -> list[Any]:
    """A cursor's key back into the columns' types (datetimes, uuids, strings)."""
    if len(key) != len(order):
        raise BadCursor("cursor is not one this list gave")
    values: list[Any] = []
    for column, raw in zip(order, key, strict=True):
        python_type = _python_type(column)
        try:
            if python_type is datetime:
                moment = datetime.fromisoformat(raw)
                values.append(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
            elif python_type is uuid.UUID:
                values.append(uuid.UUID(raw))
            elif python_type is int:
                values.append(int(raw))
            else:
                values.append(raw)
        except ValueError as exc:
            raise BadCursor("cursor is not one this list gave") from exc
    return values


def _python_type(column: Any) -> type:
    kind = getattr(column, "type", None)
    kind = getattr(kind, "impl", kind)  # a TypeDecorator (UTCDateTime): what it stores
    try:
        return kind.python_type if kind is not None else str
    except NotImplementedError:
        return str


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
