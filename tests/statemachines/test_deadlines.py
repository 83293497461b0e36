"""Deadlines: proposal validity, withdrawal windows, listing periods.

Expected instants are written out in UTC by hand (weekday, holiday and Paris offset worked
out in the comment beside each), not computed with the code under test.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest
from freezegun import freeze_time

from statemachines.deadlines import (
    PROPOSAL_VALIDITY,
    WITHDRAWAL_RULES,
    WithdrawalKind,
    french_public_holidays,
    is_french_working_day,
    listing_publication_ends_at,
    listing_sold_period_ends_at,
    proposal_expires_at,
    withdrawal_deadline,
)

PARIS = ZoneInfo("Europe/Paris")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


# --- proposal validity -------------------------------------------------------------------


def test_an_unsent_proposal_lapses_30_days_after_saving() -> None:
    assert proposal_expires_at(utc("2026-01-10 09:00")) == utc("2026-02-09 09:00")


def test_a_sent_proposal_lapses_30_days_after_its_first_sending() -> None:
    saved = utc("2026-01-10 09:00")
    sent = utc("2026-01-12 15:30")

    assert proposal_expires_at(saved, first_sent_at=sent) == utc("2026-02-11 15:30")


def test_validity_is_30_times_24_hours_even_across_a_dst_change() -> None:
    # 12:00 UTC is 13:00 in Paris on 20 March and 14:00 on 19 April: elapsed time, not
    # wall-clock time, is what counts.
    assert proposal_expires_at(utc("2026-03-20 12:00")) == utc("2026-04-19 12:00")
    assert timedelta(hours=30 * 24) == PROPOSAL_VALIDITY


def test_resending_on_day_29_does_not_extend_validity() -> None:
    # The workflow reads the time from its clock at each step; freezegun plays that clock.
    with freeze_time("2026-01-10 09:00:00") as clock:
        saved_at = datetime.now(UTC)
        clock.tick(timedelta(days=1))
        first_sent_at = datetime.now(UTC)
        expiry_after_sending = proposal_expires_at(saved_at, first_sent_at)

        clock.tick(timedelta(days=29))
        resent_at = datetime.now(UTC)
        # Resending keeps the first sending: nothing about the resend goes in.
        expiry_after_resend = proposal_expires_at(saved_at, first_sent_at)

    assert expiry_after_resend == expiry_after_sending == utc("2026-02-10 09:00")
    assert expiry_after_resend - resent_at == timedelta(days=1)


def test_expiry_ignores_the_current_time() -> None:
    with freeze_time("2099-06-01"):
        assert proposal_expires_at(utc("2026-01-10 09:00")) == utc("2026-02-09 09:00")


def test_expiry_accepts_any_timezone_and_answers_in_utc() -> None:
    result = proposal_expires_at(paris("2026-01-10 10:00"))

    assert result == utc("2026-02-09 09:00")
    assert result.tzinfo is UTC


# --- withdrawal window -------------------------------------------------------------------


def test_legal_basis_sits_beside_each_number() -> None:
    service = WITHDRAWAL_RULES["service"]
    insurance = WITHDRAWAL_RULES["insurance"]

    assert service.days == 14
    assert "L221-18" in service.legal_basis
    assert service.statutory_extension
    assert insurance.days == 30
    assert "L112-10" in insurance.legal_basis
    assert not insurance.statutory_extension


@pytest.mark.parametrize(
    ("signed_at", "kind", "expected"),
    [
        # Mon 12 Jan + 14 = Mon 26 Jan, CET (+1).
        (paris("2026-01-12 10:00"), "service", utc("2026-01-26 22:59:59.999999")),
        # Mon 12 Jan + 30 = Wed 11 Feb, CET.
        (paris("2026-01-12 10:00"), "insurance", utc("2026-02-11 22:59:59.999999")),
        # Kinds may be given as enum members.
        (paris("2026-01-12 10:00"), WithdrawalKind.SERVICE, utc("2026-01-26 22:59:59.999999")),
    ],
)
def test_an_ordinary_window(signed_at: datetime, kind: str, expected: datetime) -> None:
    assert withdrawal_deadline(signed_at, kind) == expected


def test_the_day_of_signature_does_not_count() -> None:
    # Signed at any time on Mon 12 Jan: the window still ends on Mon 26 Jan.
    early = withdrawal_deadline(paris("2026-01-12 00:00:01"), "service")
    late = withdrawal_deadline(paris("2026-01-12 23:59:59"), "service")
    next_day = withdrawal_deadline(paris("2026-01-13 00:00:01"), "service")

    assert early == late == utc("2026-01-26 22:59:59.999999")
    assert next_day == utc("2026-01-27 22:59:59.999999")


def test_the_day_of_signature_is_the_paris_day() -> None:
    # 22:30 UTC on Mon 20 Oct 2025 is already Tue 21 Oct in Paris (CEST, +2):
    # Tue 21 Oct + 14 = Tue 4 Nov, CET (+1).
    assert withdrawal_deadline(utc("2025-10-20 22:30"), "service") == utc("2025-11-04 22:59:59.999999")


def test_a_window_ending_on_saturday_moves_to_monday() -> None:
    # Sat 1 Mar 2025 + 14 = Sat 15 Mar -> Mon 17 Mar, CET.
    assert withdrawal_deadline(paris("2025-03-01 11:00"), "service") == utc("2025-03-17 22:59:59.999999")


def test_a_window_ending_on_christmas_moves_to_the_26th() -> None:
    # Thu 11 Dec 2025 + 14 = Thu 25 Dec (Noël) -> Fri 26 Dec, CET.
    assert withdrawal_deadline(paris("2025-12-11 16:00"), "service") == utc("2025-12-26 22:59:59.999999")


def test_a_window_ending_on_14_july_moves_to_the_15th() -> None:
    # Tue 30 Jun 2026 + 14 = Tue 14 Jul (Fête nationale) -> Wed 15 Jul, CEST (+2).
    assert withdrawal_deadline(paris("2026-06-30 09:00"), "service") == utc("2026-07-15 21:59:59.999999")


def test_a_weekend_then_easter_monday_moves_to_tuesday() -> None:
    # Sat 21 Mar 2026 + 14 = Sat 4 Apr; Sun 5 Apr; Mon 6 Apr is Easter Monday
    # -> Tue 7 Apr, CEST.
    assert withdrawal_deadline(paris("2026-03-21 10:00"), "service") == utc("2026-04-07 21:59:59.999999")


def test_a_weekend_then_whit_monday_moves_to_tuesday() -> None:
    # Sat 9 May 2026 + 14 = Sat 23 May; Sun 24; Mon 25 May is Whit Monday -> Tue 26 May.
    assert withdrawal_deadline(paris("2026-05-09 10:00"), "service") == utc("2026-05-26 21:59:59.999999")


def test_signed_in_summer_time_ending_in_winter_time() -> None:
    # Mon 20 Oct 2025 (CEST, +2) + 14 = Mon 3 Nov; clocks went back on 26 Oct, so the end
    # of day is at +1.
    assert withdrawal_deadline(paris("2025-10-20 12:00"), "service") == utc("2025-11-03 22:59:59.999999")


def test_signed_in_winter_time_ending_in_summer_time() -> None:
    # Fri 20 Mar 2026 (CET, +1) + 14 = Fri 3 Apr (Good Friday is no national holiday);
    # clocks went forward on 29 Mar, so the end of day is at +2.
    assert withdrawal_deadline(paris("2026-03-20 12:00"), "service") == utc("2026-04-03 21:59:59.999999")


def test_a_window_ending_on_the_spring_dst_sunday() -> None:
    # Sun 15 Mar 2026 + 14 = Sun 29 Mar (the 23-hour day) -> Mon 30 Mar, CEST.
    assert withdrawal_deadline(paris("2026-03-15 10:00"), "service") == utc("2026-03-30 21:59:59.999999")


def test_a_window_ending_on_the_autumn_dst_sunday() -> None:
    # Sun 12 Oct 2025 + 14 = Sun 26 Oct (the 25-hour day) -> Mon 27 Oct, CET.
    assert withdrawal_deadline(paris("2025-10-12 10:00"), "service") == utc("2025-10-27 22:59:59.999999")


def test_insurance_gets_30_days_and_the_weekend_extension_too() -> None:
    # Thu 15 Jan 2026 + 30 = Sat 14 Feb -> Mon 16 Feb, CET. L112-10 has no extension of
    # its own; granting it is more favourable to the buyer.
    assert withdrawal_deadline(paris("2026-01-15 10:00"), "insurance") == utc("2026-02-16 22:59:59.999999")


def test_insurance_across_new_year() -> None:
    # Tue 2 Dec 2025 + 30 = Thu 1 Jan 2026 (Jour de l'an) -> Fri 2 Jan, CET.
    assert withdrawal_deadline(paris("2025-12-02 10:00"), "insurance") == utc("2026-01-02 22:59:59.999999")


def test_the_window_ends_at_the_last_microsecond_of_the_paris_day() -> None:
    end = withdrawal_deadline(paris("2026-01-12 10:00"), "service")

    assert end.tzinfo is UTC
    local = end.astimezone(PARIS)
    assert (local.date(), local.hour, local.minute, local.second) == (date(2026, 1, 26), 23, 59, 59)
    assert (end + timedelta(microseconds=1)).astimezone(PARIS).date() == date(2026, 1, 27)


def test_the_window_ignores_the_current_time() -> None:
    with freeze_time("2030-12-25 12:00"):
        assert withdrawal_deadline(paris("2026-01-12 10:00"), "service") == utc("2026-01-26 22:59:59.999999")


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown contract kind"):
        withdrawal_deadline(paris("2026-01-12 10:00"), "leasing")


@pytest.mark.parametrize(
    "call",
    [
        lambda naive: withdrawal_deadline(naive, "service"),
        lambda naive: proposal_expires_at(naive),
        lambda naive: proposal_expires_at(utc("2026-01-01 00:00"), naive),
        lambda naive: listing_publication_ends_at(naive),
        lambda naive: listing_sold_period_ends_at(naive),
    ],
)
def test_naive_datetimes_are_refused(call: Callable[[datetime], datetime]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call(datetime(2026, 1, 12, 10, 0))


# --- French working days -----------------------------------------------------------------


def test_the_holiday_calendar_matches_the_holidays_package() -> None:
    # 2005-2007 differ: the package drops Whit Monday in the first "journée de solidarité"
    # years, though it stayed a public holiday in law. Earlier years do not matter here.
    for year in range(2008, 2101):
        assert french_public_holidays(year) == frozenset(holidays.France(years=year)), year


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 1, 12), True),  # Monday
        (date(2026, 1, 17), False),  # Saturday
        (date(2026, 1, 18), False),  # Sunday
        (date(2026, 4, 3), True),  # Good Friday: only in Alsace-Moselle
        (date(2026, 4, 6), False),  # Easter Monday
        (date(2026, 5, 14), False),  # Ascension
        (date(2026, 5, 25), False),  # Whit Monday
        (date(2026, 12, 26), False),  # Saturday (St Stephen's: only in Alsace-Moselle)
        (date(2025, 12, 26), True),  # Friday
    ],
)
def test_working_days(day: date, working: bool) -> None:
    assert is_french_working_day(day) is working


# --- listing periods ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("published_at", "expected"),
    [
        # 10:00 CET on 15 Jan -> 10:00 CEST on 15 Apr: same Paris wall time.
        (paris("2026-01-15 10:00"), utc("2026-04-15 08:00")),
        # 30 Nov + 3 months: February is shorter, clamp to its last day.
        (paris("2025-11-30 10:00"), utc("2026-02-28 09:00")),
        (paris("2027-11-30 10:00"), utc("2028-02-29 09:00")),
        # 31 Mar + 3 months: June has 30 days.
        (paris("2026-03-31 18:00"), utc("2026-06-30 16:00")),
        # Across the new year.
        (paris("2026-12-15 09:30"), utc("2027-03-15 08:30")),
        # Wall time inside the spring DST gap (02:30 on 29 Mar 2026 does not exist):
        # resolved one hour later, 03:30 CEST.
        (paris("2025-12-29 02:30"), utc("2026-03-29 01:30")),
    ],
)
def test_publication_lasts_three_calendar_months(published_at: datetime, expected: datetime) -> None:
    result = listing_publication_ends_at(published_at)

    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("sold_at", "expected"),
    [
        # 31 Jan + 1 month: clamp to 28 Feb (29 in a leap year).
        (paris("2026-01-31 12:00"), utc("2026-02-28 11:00")),
        (paris("2028-01-31 12:00"), utc("2028-02-29 11:00")),
        # 31 Mar -> 30 Apr, both CEST.
        (paris("2026-03-31 12:00"), utc("2026-04-30 10:00")),
        # 10:00 CEST on 10 Oct -> 10:00 CET on 10 Nov.
        (paris("2026-10-10 10:00"), utc("2026-11-10 09:00")),
        # Across the new year.
        (paris("2026-12-31 20:00"), utc("2027-01-31 19:00")),
    ],
)
def test_the_sold_badge_lasts_one_calendar_month(sold_at: datetime, expected: datetime) -> None:
    assert listing_sold_period_ends_at(sold_at) == expected


def test_calendar_months_are_counted_on_the_paris_calendar() -> None:
    # 23:30 UTC on 30 Jan is 00:30 on 31 Jan in Paris: one month later is 28 Feb 00:30 Paris,
    # i.e. 27 Feb in UTC (counting in UTC would have said 28 Feb 23:30).
    assert listing_sold_period_ends_at(utc("2026-01-30 23:30")) == utc("2026-02-27 23:30")


def test_listing_periods_accept_any_timezone() -> None:
    new_york = timezone(timedelta(hours=-5))
    published_at = datetime(2026, 1, 15, 4, 0, tzinfo=new_york)  # 10:00 in Paris

    assert listing_publication_ends_at(published_at) == utc("2026-04-15 08:00")
