"""Legal and commercial deadlines of the lifecycles, as pure functions (DESIGN §3, §4).

Instants in and out are timezone-aware and returned in UTC, which is what Temporal timers
and the database want. Calendar reasoning (which day, which month) happens in
Europe/Paris, where the buyers, owners and the law live. No clock is read here: callers
pass `workflow.now()` or their injectable clock's time.

These functions run inside Temporal's workflow sandbox (module passed through), which
refuses lazy imports and `locale` calls. That is why the public holidays are computed here
rather than by `holidays.France` at run time (its constructor loads a gettext catalogue,
and the sandbox rejects it); the tests check this calendar against `holidays.France`.
"""

from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

__all__ = [
    "PARIS_TIMEZONE",
    "PROPOSAL_VALIDITY",
    "WITHDRAWAL_RULES",
    "WithdrawalKind",
    "WithdrawalRule",
    "french_public_holidays",
    "is_french_working_day",
    "listing_publication_ends_at",
    "listing_sold_period_ends_at",
    "proposal_expires_at",
    "withdrawal_deadline",
]

PARIS_TIMEZONE = "Europe/Paris"

# The seller's FAQ promises "valide pendant 30 jours" without a counting rule, so we take
# it as an elapsed duration: exactly 30 x 24 h after the instant. That is what a Temporal
# timer measures, it is the same whatever the DST changes in between, and a buyer never
# gets less than 30 full days.
PROPOSAL_VALIDITY = timedelta(days=30)

PUBLICATION_MONTHS = 3
SOLD_VISIBILITY_MONTHS = 1


class WithdrawalKind(StrEnum):
    SERVICE = "service"
    INSURANCE = "insurance"


@dataclass(frozen=True)
class WithdrawalRule:
    days: int
    legal_basis: str
    # Whether the statute itself moves a last day falling on a weekend or public holiday.
    # We extend in every case; this only records where the extension comes from.
    statutory_extension: bool


WITHDRAWAL_RULES: MappingProxyType[str, WithdrawalRule] = MappingProxyType(
    {
        # Maintenance and other service contracts sold at a distance.
        WithdrawalKind.SERVICE: WithdrawalRule(
            days=14,
            legal_basis="Code de la consommation, art. L221-18 (counting: L221-19)",
            statutory_extension=True,
        ),
        # Insurance products (mechanical breakdown warranty extension) sold alongside
        # the vehicle: 30 days since 2023.
        WithdrawalKind.INSURANCE: WithdrawalRule(
            days=30,
            legal_basis="Code des assurances, art. L112-10",
            # L112-10 has no weekend/holiday extension. We grant it anyway: a longer window
            # is more favourable to the buyer, hence lawful, and one counting rule for both
            # kinds is simpler to explain and to test.
            statutory_extension=False,
        ),
    }
)

_END_OF_DAY = time(23, 59, 59, 999999)


def proposal_expires_at(saved_at: datetime, first_sent_at: datetime | None = None) -> datetime:
    """When a proposal stops being valid.

    An unsent proposal (a "devis") lapses 30 days after it was saved; a sent one 30 days
    after its FIRST sending. Pass the first sending even after resends: resending only
    corrects the buyer's contact details and never extends validity.
    """
    saved = _as_utc(saved_at, "saved_at")
    start = saved if first_sent_at is None else _as_utc(first_sent_at, "first_sent_at")
    return start + PROPOSAL_VALIDITY


def withdrawal_deadline(signed_at: datetime, kind: str) -> datetime:
    """Last instant (UTC) at which the buyer may withdraw from a contract signed at `signed_at`.

    L221-19 counting: the day of signature (in Paris) does not count; the window ends at
    the end of the Nth day after it, 23:59:59.999999 Paris time; a last day that is a
    Saturday, Sunday or French public holiday moves to the next working day.
    """
    try:
        rule = WITHDRAWAL_RULES[kind]
    except KeyError:
        raise ValueError(
            f"unknown contract kind {kind!r}; expected one of {sorted(WITHDRAWAL_RULES)}"
        ) from None
    signature_day = _as_utc(signed_at, "signed_at").astimezone(_paris()).date()
    last_day = signature_day + timedelta(days=rule.days)
    while not is_french_working_day(last_day):
        last_day += timedelta(days=1)
    # 23:59 is never inside a DST gap or fold in Paris (changes happen at 02:00/03:00),
    # so the wall time maps to exactly one instant.
    return datetime.combine(last_day, _END_OF_DAY, tzinfo=_paris()).astimezone(UTC)


def listing_publication_ends_at(published_at: datetime) -> datetime:
    """End of a listing's public period: 3 calendar months later, same Paris wall time."""
    return _add_months_paris(_as_utc(published_at, "published_at"), PUBLICATION_MONTHS)


def listing_sold_period_ends_at(sold_at: datetime) -> datetime:
    """End of a sold listing's "VENDU" period: 1 calendar month later, same Paris wall time."""
    return _add_months_paris(_as_utc(sold_at, "sold_at"), SOLD_VISIBILITY_MONTHS)


def is_french_working_day(day: date) -> bool:
    """Neither a Saturday, a Sunday nor a national French public holiday."""
    return day.weekday() < 5 and day not in french_public_holidays(day.year)


@functools.cache
def french_public_holidays(year: int) -> frozenset[date]:
    """The national public holidays (jours fériés) of metropolitan France in `year`.

    The list of Code du travail art. L3133-1. Alsace-Moselle's and the overseas
    departments' extra days depend on where the buyer lives, which the lifecycle does not
    know. Whit Monday stays a public holiday even where it is worked ("journée de
    solidarité"), so it counts here.
    """
    easter = _easter_sunday(year)
    return frozenset(
        {
            date(year, 1, 1),  # Jour de l'an
            easter + timedelta(days=1),  # Lundi de Pâques
            date(year, 5, 1),  # Fête du Travail
            date(year, 5, 8),  # Victoire 1945
            easter + timedelta(days=39),  # Ascension
            easter + timedelta(days=50),  # Lundi de Pentecôte
            date(year, 7, 14),  # Fête nationale
            date(year, 8, 15),  # Assomption
            date(year, 11, 1),  # Toussaint
            date(year, 11, 11),  # Armistice 1918
            date(year, 12, 25),  # Noël
        }
    )


def _easter_sunday(year: int) -> date:
    # Gregorian computus (Meeus/Jones/Butcher).
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday_shift = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday_shift) // 451
    month, day = divmod(h + weekday_shift - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _add_months_paris(instant: datetime, months: int) -> datetime:
    # Calendar months, so counted on the Paris calendar; a day the target month lacks
    # (30 Nov + 3 months) clamps to its last day. A wall time that does not exist that day
    # (inside the spring DST gap) resolves one hour later; an ambiguous one (autumn fold)
    # takes its first occurrence.
    local = instant.astimezone(_paris())
    year, month_index = divmod(local.month - 1 + months, 12)
    year += local.year
    month = month_index + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    wall_time = local.time().replace(fold=0)
    return datetime.combine(date(year, month, day), wall_time, tzinfo=_paris()).astimezone(UTC)


def _as_utc(value: datetime, name: str) -> datetime:
    # A naive datetime would be read as the host's local time, which differs between a
    # laptop, CI and the worker: refuse it rather than guess.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    return value.astimezone(UTC)


def _paris() -> ZoneInfo:
    # Built on first use rather than at import, so importing this module reads no file;
    # ZoneInfo keeps its own cache of instances.
    return ZoneInfo(PARIS_TIMEZONE)
