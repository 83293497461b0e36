"""The activity's charts as SVG drawn on the server (issue 13): readable without JavaScript.

Each chart is an `<svg role="img">` with a French `<title>` and `<desc>` (what a screen reader
says), every bar carries its value as text or in its own `<title>`, and the page prints the
same figures in a table right after it: the chart is never the only way to read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from api.dealer_app.activity_queries import ActivityReport

FRENCH_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
SHORT_MONTHS = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)
# The monthly series: (metric, French label, colour). Colours contrast with white (≥ 3:1).
SERIES = (
    ("sent", "Envoyées", "#123a5a"),
    ("viewed", "Consultées", "#2f6fa8"),
    ("signed", "Signées", "#2e7d32"),
    ("withdrawn", "Rétractées", "#a35f00"),
    ("expired", "Expirées", "#8e2430"),
)


def month_label(month: date) -> str:
    return f"{FRENCH_MONTHS[month.month - 1]} {month.year}"


def short_month(month: date) -> str:
    return f"{SHORT_MONTHS[month.month - 1]} {month.year % 100:02d}"


def plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def french_number(value: float, decimals: int = 1) -> str:
    return f"{value:.{decimals}f}".replace(".", ",")


def percent(ratio: float | None) -> str:
    return "—" if ratio is None else f"{french_number(ratio * 100)} %"


def duration(seconds: float | None) -> str:
    """A median delay as dealers say it: minutes, hours, then days."""
    if seconds is None:
        return "—"
    if seconds < 3600:
        return plural(max(1, round(seconds / 60)), "minute", "minutes")
    if seconds < 48 * 3600:
        hours = seconds / 3600
        return f"{french_number(hours)} heure{'s' if hours >= 2 else ''}"
    return f"{french_number(seconds / 86400)} jours"


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str  # what its <title> says: "mars 2026 : 2 envoyées"
    value: str


@dataclass(frozen=True)
class Tick:
    position: float
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    x_labels: list[Tick]  # under each group (monthly) or beside each bar (sellers)
    y_ticks: list[Tick]
    plot_left: float
    plot_bottom: float
    plot_right: float
    title: str
    description: str


def _nice_max(value: int) -> int:
    """A round top for the axis (1, 2, 5 × 10^n), at least 1."""
    if value <= 1:
        return 1
    magnitude = 1
    while magnitude * 10 < value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def monthly_chart(report: ActivityReport) -> Chart:
    """Grouped bars: the five counts of each month of the period."""
    months = list(report.months.items())
    width, height = 760, 320
    left, right, top, bottom = 44.0, 752.0, 16.0, 280.0
    top_value = _nice_max(
        max((getattr(counts, metric) for _, counts in months for metric, _, _ in SERIES), default=0)
    )
    group = (right - left) / max(len(months), 1)
    bar_width = group * 0.8 / len(SERIES)
    bars, labels = [], []
    for index, (month, counts) in enumerate(months):
        start = left + index * group + group * 0.1
        for position, (metric, name, colour) in enumerate(SERIES):
            value = getattr(counts, metric)
            bar_height = (bottom - top) * value / top_value
            bars.append(
                Bar(
                    x=round(start + position * bar_width, 2),
                    y=round(bottom - bar_height, 2),
                    width=round(bar_width * 0.9, 2),
                    height=round(bar_height, 2),
                    colour=colour,
                    label=f"{month_label(month)}, {name.lower()} : {value}",
                    value=str(value),
                )
            )
        labels.append(Tick(round(left + index * group + group / 2, 2), short_month(month)))
    # Whole numbers only: a step of a fifth (1, 5, 50…) or a quarter (2, 20…) of the top, at least 1.
    step = max(1, top_value // 5 if top_value % 5 == 0 else top_value // 4)
    ticks = [
        Tick(round(bottom - (bottom - top) * value / top_value, 2), str(value))
        for value in range(0, top_value + 1, step)
    ]
    total = report.total
    description = (
        f"Du {month_label(report.period.first)} au {month_label(report.period.last)} : "
        f"{plural(total.sent, 'proposition envoyée', 'propositions envoyées')}, "
        f"{total.viewed} consultée{'s' if total.viewed > 1 else ''}, "
        f"{total.signed} signée{'s' if total.signed > 1 else ''}, "
        f"{total.withdrawn} rétractée{'s' if total.withdrawn > 1 else ''}, "
        f"{total.expired} expirée{'s' if total.expired > 1 else ''}. "
        "Le détail mois par mois est dans le tableau qui suit."
    )
    return Chart(
        width, height, bars, labels, ticks, left, bottom, right, "Propositions par mois", description
    )


def sellers_chart(report: ActivityReport) -> Chart:
    """Horizontal bars: each seller's conversion sent → signed, in percent."""
    sellers = list(report.sellers.values())
    row, left, right, top = 34.0, 190.0, 700.0, 12.0
    height = int(top + row * max(len(sellers), 1) + 36)
    bottom = top + row * max(len(sellers), 1)
    bars, labels = [], []
    for index, (seller, counts) in enumerate(sellers):
        ratio = counts.conversion or 0.0
        y = top + index * row + row * 0.15
        bars.append(
            Bar(
                x=left,
                y=round(y, 2),
                width=round((right - left) * ratio, 2),
                height=round(row * 0.7, 2),
                colour="#2e7d32",
                label=f"{seller.name} : {percent(counts.conversion)} de conversion "
                f"(signées : {counts.converted} sur {counts.sent} envoyées)",
                value=percent(counts.conversion),
            )
        )
        labels.append(Tick(round(y + row * 0.35, 2), _short(seller.name or seller.email)))
    ticks = [Tick(round(left + (right - left) * k / 4, 2), f"{25 * k} %") for k in range(5)]
    description = (
        "Part des propositions envoyées qui ont été signées, par vendeur : "
        + "; ".join(f"{s.name or s.email} {percent(c.conversion)}" for s, c in sellers)
        + ". Le détail par vendeur est dans le tableau qui suit."
        if sellers
        else "Aucune proposition sur la période."
    )
    return Chart(760, height, bars, labels, ticks, left, bottom, right, "Conversion par vendeur", description)


def _short(name: str, limit: int = 24) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"
