"""The activity's figures (issue 13), exact on a seeded set: per Paris month and per seller,
sent → signed conversion and median time to signature; another centre's sales never count."""

from __future__ import annotations

from datetime import date

import pytest
from activity_seed import DAY, JULIE, PAUL, SALES, seed

from api.dealer_app.activity_queries import Period, activity_report

YEAR = Period.last_months(date(2026, 12, 15))


async def test_each_figure_per_paris_month_per_seller_and_in_total(session_factory, migrated) -> None:
    dealer_id = await seed(session_factory, migrated, SALES)
    # Another centre's sales in the same months: none of them may count.
    await seed(session_factory, migrated, SALES[:4])

    async with session_factory() as session:
        report = await activity_report(session, dealer_id, YEAR)

    assert YEAR.months[0] == date(2026, 1, 1) and YEAR.months[-1] == date(2026, 12, 1)
    table = {
        month.month: (c.sent, c.viewed, c.signed, c.withdrawn, c.expired, c.converted)
        for month, c in report.months.items()
    }
    assert table == {
        1: (0, 0, 1, 0, 0, 0),
        2: (0, 0, 0, 0, 0, 0),
        3: (2, 2, 2, 0, 0, 2),
        4: (0, 0, 0, 1, 0, 0),
        5: (1, 0, 0, 0, 0, 0),
        6: (1, 1, 2, 0, 1, 1),
        **{m: (0, 0, 0, 0, 0, 0) for m in range(7, 13)},
    }
    total = report.total
    assert (total.sent, total.viewed, total.signed, total.withdrawn, total.expired) == (4, 3, 5, 1, 1)
    assert total.conversion == pytest.approx(3 / 4)
    # Signatures: 1 h, 2, 4, 6 and 46 days: the median is 4 days.
    assert total.median_seconds == pytest.approx(4 * DAY, abs=0.01)
    assert report.months[date(2026, 1, 1)].median_seconds == pytest.approx(46 * DAY, abs=0.01)
    assert report.months[date(2026, 3, 1)].median_seconds == pytest.approx(3 * DAY, abs=0.01)  # 2 and 4
    assert report.months[date(2026, 6, 1)].median_seconds == pytest.approx((6 * DAY + 3600) / 2, abs=0.01)
    assert report.months[date(2026, 5, 1)].median_seconds is None
    assert report.months[date(2026, 5, 1)].conversion == 0.0
    assert report.months[date(2026, 4, 1)].conversion is None  # nothing sent

    # Per seller (emails compared without case), the most active first.
    assert list(report.sellers) == [JULIE, PAUL]  # as many sent: by email
    paul_key, paul = report.sellers[PAUL]
    julie_key, julie = report.sellers[JULIE]
    assert (paul_key.name, julie_key.name) == ("Paul Vendeur", "Julie Martin")
    assert (paul.sent, paul.viewed, paul.signed, paul.withdrawn, paul.expired, paul.converted) == (
        2,
        2,
        4,
        1,
        0,
        2,
    )
    assert (julie.sent, julie.viewed, julie.signed, julie.withdrawn, julie.expired, julie.converted) == (
        2,
        1,
        1,
        0,
        1,
        1,
    )
    # Paul: 1 h, 2, 4 and 46 days → (2 + 4) / 2 = 3 days; Julie: 6 days.
    assert paul.median_seconds == pytest.approx(3 * DAY, abs=0.01)
    assert julie.median_seconds == pytest.approx(6 * DAY, abs=0.01)


async def test_one_sellers_figures_and_a_shorter_period(session_factory, migrated) -> None:
    dealer_id = await seed(session_factory, migrated, SALES)
    async with session_factory() as session:
        julie = await activity_report(session, dealer_id, YEAR, seller=JULIE)
        spring = await activity_report(session, dealer_id, Period(date(2026, 3, 1), date(2026, 5, 1)))

    assert list(julie.sellers) == [JULIE]
    t = julie.total
    assert (t.sent, t.viewed, t.signed, t.withdrawn, t.expired, t.converted) == (2, 1, 1, 0, 1, 1)
    assert t.median_seconds == pytest.approx(6 * DAY, abs=0.01)

    assert [m.month for m in spring.months] == [3, 4, 5]
    s = spring.total
    assert (s.sent, s.viewed, s.signed, s.withdrawn, s.expired, s.converted) == (3, 2, 2, 1, 0, 2)
    assert s.median_seconds == pytest.approx(3 * DAY, abs=0.01)


async def test_a_centre_without_sales_has_an_empty_report(session_factory, migrated) -> None:
    dealer_id = await seed(session_factory, migrated, [])
    async with session_factory() as session:
        report = await activity_report(session, dealer_id, YEAR)
    assert report.empty and report.sellers == {} and report.total.median_seconds is None
    assert len(report.months) == 12
