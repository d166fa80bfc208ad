"""The geometry of the pages' charts: where each bar, line and label goes (``templates/charts.html``).

Pure functions from view models to frozen dataclasses of coordinates and texts; the template
macros turn them into inline SVG (autoescaped, no JavaScript, nothing loaded from elsewhere).
Colours of statuses and gate outcomes are in the stylesheet, keyed by ``data-status``/``data-gate``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

CUSTOM_COLOUR = "#1565c0"
BASE_COLOUR = "#9e9e9e"
TIE_COLOUR = "#cfd8dc"
POSITIVE_COLOUR = "#2e7d32"
NEGATIVE_COLOUR = "#c62828"
#: One colour per metric line of the history chart (cycled).
SERIES_COLOURS = ("#1565c0", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457", "#558b2f", "#4e342e", "#283593")


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def format_number(value: float) -> str:
    """A metric value: 4 significant digits, no exponent for ordinary scores."""
    return f"{value:.4g}"


def format_delta(value: float) -> str:
    return f"{value:+.4g}"


def format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


# Step timeline ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineStep:
    """A step as the timeline draws it; ``end`` None while the step runs."""

    name: str
    status: str
    start: datetime | None
    end: datetime | None
    failure_reason: str | None = None


@dataclass(frozen=True)
class TimelineBar:
    """A step's row: its bar from ``x`` (None: not started), the caption at the right, the reason below."""

    step: str
    status: str
    label: str
    y: float
    x: float | None
    width: float
    tip: str
    caption: str
    reason: str | None


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    left: int
    plot: int
    top: int
    row: int
    span: str
    bars: list[TimelineBar]


def timeline(steps: Sequence[TimelineStep], now: datetime, width: int = 760) -> Timeline:
    """A Gantt-like bar per step from its start to its end (or now)."""
    left, right_pad, row, reason_row, top = 230, 170, 30, 16, 28
    started = [s.start for s in steps if s.start is not None]
    origin = min(started) if started else now
    finish = max([*(s.end or now for s in steps if s.start is not None), origin])
    span = max((finish - origin).total_seconds(), 1.0)
    plot = width - left - right_pad
    height = top + row * max(len(steps), 1) + reason_row * sum(1 for s in steps if s.failure_reason) + 8
    bars, y = [], top - row
    for step in steps:
        y += row
        label = clip(step.name, 34)
        if step.start is None:
            bars.append(TimelineBar(step.name, step.status, label, y, None, plot, "", "not started", None))
            continue
        end = step.end or now
        took = format_duration((end - step.start).total_seconds())
        tip = f"{step.name}: {step.status}, {took}"
        if step.failure_reason:
            tip += f" - {step.failure_reason}"
        reason = clip(step.failure_reason, int((width - left) / 6.8)) if step.failure_reason else None
        bars.append(
            TimelineBar(
                step=step.name,
                status=step.status,
                label=label,
                y=y,
                x=left + plot * (step.start - origin).total_seconds() / span,
                width=max(plot * (end - step.start).total_seconds() / span, 3),
                tip=tip,
                caption=f"{step.status} {took}" + ("" if step.end else " \u2026"),
                reason=reason,
            )
        )
        if reason:
            y += reason_row
    return Timeline(width, height, left, plot, top, row, format_duration(span), bars)


# Custom vs base metrics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricBar:
    role: str
    colour: str
    value: float
    x: float
    y: float
    width: float
    #: Where the value's label starts (right of the bar's far end, or of zero for a negative value).
    label_x: float


@dataclass(frozen=True)
class MetricGroup:
    name: str
    label: str
    y: float
    bars: list[MetricBar]
    delta: float | None


@dataclass(frozen=True)
class MetricsChart:
    width: int
    height: int
    left: int
    top: int
    bar_height: int
    zero: float
    groups: list[MetricGroup]


def metrics(
    custom: Mapping[str, float], base: Mapping[str, float], deltas: Mapping[str, float], width: int = 760
) -> MetricsChart:
    """Per metric, a bar for the custom and one for the base model, with the delta at the right.

    Bars start at zero; negative values (a loss, a log-likelihood) extend to the left.
    """
    names = sorted(set(custom) | set(base))
    left, right_pad, bar_h, gap, top = 190, 90, 13, 12, 30
    values = [v for name in names for v in (custom.get(name), base.get(name)) if v is not None]
    low, high = min([0.0, *values]), max([0.0, *values])
    span = (high - low) or 1.0
    plot = width - left - right_pad - 60
    zero = left + plot * (0 - low) / span
    group_height = 2 * bar_h + gap
    groups = []
    for index, name in enumerate(names):
        y = top + index * group_height
        bars = []
        for offset, role, colour, mapping in (
            (0, "custom", CUSTOM_COLOUR, custom),
            (bar_h, "base", BASE_COLOUR, base),
        ):
            value = mapping.get(name)
            if value is None:
                continue
            x_end = left + plot * (value - low) / span
            bars.append(
                MetricBar(
                    role=role,
                    colour=colour,
                    value=value,
                    x=min(zero, x_end),
                    y=y + offset,
                    width=max(abs(x_end - zero), 1),
                    label_x=max(x_end, zero) + 4,
                )
            )
        groups.append(MetricGroup(name, clip(name, 28), y, bars, deltas.get(name)))
    height = top + group_height * max(len(names), 1) + 6
    return MetricsChart(width, height, left, top, bar_h, zero, groups)


@dataclass(frozen=True)
class WinRateShare:
    role: str
    count: int
    share: float
    colour: str
    x: float
    width: float

    @property
    def label(self) -> str:
        return f"{self.role} {self.share:.0%} ({self.count})"


@dataclass(frozen=True)
class WinRates:
    width: int
    total: int
    shares: list[WinRateShare]


def win_rates(custom_wins: int, ties: int, base_wins: int, width: int = 760) -> WinRates:
    """One stacked bar: the share of examples the judge preferred the custom model, a tie, the base model."""
    total = custom_wins + ties + base_wins
    shares, x = [], 0.0
    for role, count, colour in (
        ("custom", custom_wins, CUSTOM_COLOUR),
        ("tie", ties, TIE_COLOUR),
        ("base", base_wins, BASE_COLOUR),
    ):
        share = count / total if total else 0.0
        if width * share > 0:
            shares.append(WinRateShare(role, count, share, colour, x, width * share))
        x += width * share
    return WinRates(width, total, shares)


# History ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryPoint:
    """One evaluation of the history: its run's label, the metric values and the gate's outcome."""

    label: str
    custom: Mapping[str, float]
    base: Mapping[str, float]
    gate_passed: bool | None


@dataclass(frozen=True)
class HistoryRun:
    """A run's place on the x axis: its label (None when labels would crowd) and gate outcome."""

    run: str
    x: float
    label: str | None
    gate: str | None


@dataclass(frozen=True)
class HistoryLine:
    metric: str
    role: str
    colour: str
    points: list[tuple[float, float]]


@dataclass(frozen=True)
class LegendItem:
    label: str
    colour: str
    x: float


@dataclass(frozen=True)
class HistoryChart:
    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    ticks: list[tuple[float, str]]
    runs: list[HistoryRun]
    lines: list[HistoryLine]
    legend: list[LegendItem]


def history(points: Sequence[HistoryPoint], metrics: Sequence[str], width: int = 900) -> HistoryChart:
    """One line per metric and model over the runs (custom solid, base dashed), gate outcomes on top."""
    left, right, top, bottom, height = 56, 40, 34, 58, 300
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [
        v
        for point in points
        for metric in metrics
        for v in (point.custom.get(metric), point.base.get(metric))
        if v is not None
    ]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    pad = (high - low) * 0.1 or 0.05
    low, high = low - pad, high + pad
    count = len(points)

    def x_of(index: int) -> float:
        return left + (plot_w / 2 if count == 1 else plot_w * index / (count - 1))

    def y_of(value: float) -> float:
        return top + plot_h * (high - value) / (high - low)

    ticks = [(y_of(value), f"{value:.3g}") for value in (low + (high - low) * t / 4 for t in range(5))]
    label_every = max(1, count // 8)
    runs = [
        HistoryRun(
            run=point.label,
            x=x_of(index),
            label=clip(point.label, 16) if index % label_every == 0 or index == count - 1 else None,
            gate=None if point.gate_passed is None else ("passed" if point.gate_passed else "failed"),
        )
        for index, point in enumerate(points)
    ]
    lines, legend, legend_x = [], [], float(left)
    for series, metric in enumerate(metrics):
        colour = SERIES_COLOURS[series % len(SERIES_COLOURS)]
        for role in ("custom", "base"):
            coords = [
                (x_of(i), y_of(value))
                for i, point in enumerate(points)
                if (value := (point.custom if role == "custom" else point.base).get(metric)) is not None
            ]
            if coords:
                lines.append(HistoryLine(metric, role, colour, coords))
        label = clip(metric, 24)
        legend.append(LegendItem(label, colour, legend_x))
        legend_x += 30 + 7 * len(label)
    return HistoryChart(width, height, left, top, plot_w, plot_h, ticks, runs, lines, legend)
