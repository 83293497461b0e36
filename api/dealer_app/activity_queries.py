"""The figures of a centre's activity (issue 13): aggregate SQL on the read model.

What is counted, per month (Europe/Paris months) and per seller, over a period of months:

* sent: proposals first sent in the month (`first_sent_at`); viewed: first opened by the
  buyer (`first_viewed_at`); signed (`signed_at`, face to face included); withdrawn
  (`withdrawn_at`); expired: proposals in state `expired` whose validity ended in the month
  (`expires_at`, which is when they expired);
* converted: of the proposals first sent in the month, those signed since (so the
  conversion sent → signed of a month is converted / sent, a cohort rate);
* the median time to signature of the proposals signed in the month: from the first sending
  to the signature (from the creation for a face-to-face sale never sent).

Each count is one range on an index (dealer, the event's time), all in one UNION ALL
grouped by month and seller; the medians are one window query (ROW_NUMBER/COUNT, which
SQLite and PostgreSQL both have). Every query is bound to the centre (`dealer_id`): the
figures are the centre's own, whoever asks.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, cast, func, literal_column, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from carflow.formatting import PARIS
from db.models import Proposal, Seller

METRICS = ("sent", "viewed", "signed", "withdrawn", "expired", "converted")


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """Whole months, `first` to `last` included (first days of months)."""

    first: date
    last: date

    @classmethod
    def last_months(cls, today: date, count: int = 12) -> Period:
        last = month_start(today)
        return cls(add_months(last, -(count - 1)), last)

    @property
    def months(self) -> list[date]:
        result, month = [], self.first
        while month <= self.last:
            result.append(month)
            month = add_months(month, 1)
        return result

    def bounds(self) -> list[datetime]:
        """The UTC instants where each Paris month starts, and where the last one ends."""
        starts = [*self.months, add_months(self.last, 1)]
        return [datetime(m.year, m.month, 1, tzinfo=PARIS).astimezone(UTC) for m in starts]


@dataclass
class Counts:
    sent: int = 0
    viewed: int = 0
    signed: int = 0
    withdrawn: int = 0
    expired: int = 0
    converted: int = 0  # of those sent, signed since
    median_seconds: float | None = None  # to signature, of those signed

    @property
    def conversion(self) -> float | None:
        """Sent → signed, 0 to 1 (None when nothing was sent)."""
        return self.converted / self.sent if self.sent else None

    def add(self, metric: str, count: int) -> None:
        setattr(self, metric, getattr(self, metric) + count)


@dataclass(frozen=True)
class SellerKey:
    email: str  # lower case
    name: str


@dataclass
class ActivityReport:
    period: Period
    seller: str | None  # the seller filter (lower-case email), None: the whole centre
    months: dict[date, Counts] = field(default_factory=dict)
    sellers: dict[str, tuple[SellerKey, Counts]] = field(default_factory=dict)
    total: Counts = field(default_factory=Counts)

    @property
    def empty(self) -> bool:
        return not any(getattr(self.total, metric) for metric in METRICS)


def _month_of(column: Any, bounds: list[datetime]) -> ColumnElement[int]:
    """The index (0 = the period's first month) of the month `column` falls in."""
    return case(*[(column < bound, index) for index, bound in enumerate(bounds[1:-1])], else_=len(bounds) - 2)


def _streams() -> list[tuple[str, Any, list[ColumnElement[bool]]]]:
    return [
        ("sent", Proposal.first_sent_at, []),
        ("viewed", Proposal.first_viewed_at, []),
        ("signed", Proposal.signed_at, []),
        ("withdrawn", Proposal.withdrawn_at, []),
        ("expired", Proposal.expires_at, [Proposal.state == "expired"]),
        ("converted", Proposal.first_sent_at, [Proposal.signed_at.is_not(None)]),
    ]


def counts_query(dealer_id: uuid.UUID, period: Period, seller: str | None) -> Any:
    """(metric, month index, seller email, seller name, count) of the centre over the period."""
    bounds = period.bounds()
    parts = []
    for metric, column, extra in _streams():
        conditions = [Proposal.dealer_id == dealer_id, column >= bounds[0], column < bounds[-1], *extra]
        if seller is not None:
            conditions.append(func.lower(Proposal.seller_email) == seller)
        parts.append(
            select(
                literal_column(f"'{metric}'", String).label("metric"),
                _month_of(column, bounds).label("month"),
                func.lower(Proposal.seller_email).label("seller_email"),
                Proposal.seller_name.label("seller_name"),
            ).where(and_(*conditions))
        )
    events = union_all(*parts).subquery("events")
    return select(
        events.c.metric,
        events.c.month,
        events.c.seller_email,
        func.max(events.c.seller_name).label("seller_name"),
        func.count().label("n"),
    ).group_by(events.c.metric, events.c.month, events.c.seller_email)


def _seconds_between(dialect: str, later: Any, earlier: Any) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def medians_query(dialect: str, dealer_id: uuid.UUID, period: Period, seller: str | None) -> Any:
    """(group, key, median seconds): group `month` (key: month index), `seller` (key: email)
    and `all` (key: ""), for the proposals signed in the period."""
    bounds = period.bounds()
    conditions = [
        Proposal.dealer_id == dealer_id,
        Proposal.signed_at >= bounds[0],
        Proposal.signed_at < bounds[-1],
    ]
    if seller is not None:
        conditions.append(func.lower(Proposal.seller_email) == seller)
    start = func.coalesce(Proposal.first_sent_at, Proposal.created_at)
    signed = (
        select(
            cast(_month_of(Proposal.signed_at, bounds), String).label("month"),
            func.lower(Proposal.seller_email).label("seller_email"),
            _seconds_between(dialect, Proposal.signed_at, start).label("d"),
        )
        .where(and_(*conditions))
        .cte("signed")
    )

    def ranked(group: str, key: Any, partition: list[Any]) -> Any:
        return select(
            literal_column(f"'{group}'", String).label("grp"),
            key.label("key"),
            signed.c.d,
            func.row_number().over(partition_by=partition or None, order_by=signed.c.d).label("rn"),
            func.count().over(partition_by=partition or None).label("c"),
        )

    parts = union_all(
        ranked("month", signed.c.month, [signed.c.month]),
        ranked("seller", signed.c.seller_email, [signed.c.seller_email]),
        ranked("all", literal_column("''", String), []),
    ).subquery("ranked")
    # The middle row, or the mean of the two middle rows of an even count.
    middle = parts.c.rn.in_([(parts.c.c + 1) // 2, (parts.c.c + 2) // 2])
    return (
        select(parts.c.grp, parts.c.key, func.avg(parts.c.d).label("median"))
        .where(middle)
        .group_by(parts.c.grp, parts.c.key)
    )


async def activity_report(
    session: AsyncSession, dealer_id: uuid.UUID, period: Period, seller: str | None = None
) -> ActivityReport:
    report = ActivityReport(period, seller, {month: Counts() for month in period.months})
    months = period.months
    for row in await session.execute(counts_query(dealer_id, period, seller)):
        report.months[months[row.month]].add(row.metric, row.n)
        key = SellerKey(row.seller_email, row.seller_name)
        known = report.sellers.get(row.seller_email)
        if known is None:
            known = report.sellers[row.seller_email] = (key, Counts())
        known[1].add(row.metric, row.n)
        report.total.add(row.metric, row.n)
    dialect = session.get_bind().dialect.name
    for row in await session.execute(medians_query(dialect, dealer_id, period, seller)):
        median = round(float(row.median), 3)
        if row.grp == "month":
            report.months[months[int(row.key)]].median_seconds = median
        elif row.grp == "seller" and row.key in report.sellers:
            report.sellers[row.key][1].median_seconds = median
        elif row.grp == "all":
            report.total.median_seconds = median
    report.sellers = dict(sorted(report.sellers.items(), key=lambda item: (-item[1][1].sent, item[0])))
    return report


async def known_sellers(session: AsyncSession, dealer_id: uuid.UUID) -> list[SellerKey]:
    """The centre's seller profiles (the filter's choices), by name."""
    rows = await session.execute(
        select(Seller.email, Seller.name)
        .where(Seller.dealer_id == dealer_id)
        .order_by(Seller.name, Seller.email)
    )
    seen: dict[str, SellerKey] = {}
    for email, name in rows:
        seen.setdefault(email.lower(), SellerKey(email.lower(), name))
    return list(seen.values())


async def seller_of_centre(session: AsyncSession, dealer_id: uuid.UUID, email: str) -> bool:
    """Whether `email` (lower case) is a seller of this centre: a profile or a proposal's."""
    profile = await session.scalar(
        select(Seller.id).where(Seller.dealer_id == dealer_id, func.lower(Seller.email) == email).limit(1)
    )
    if profile is not None:
        return True
    sold = await session.scalar(
        select(Proposal.id)
        .where(Proposal.dealer_id == dealer_id, func.lower(Proposal.seller_email) == email)
        .limit(1)
    )
    return sold is not None
