"""Charts of the evaluation pages, drawn on the server as SVG strings (no JavaScript, no CDN).

The SVG is inline in HTML documents, which put it in the SVG namespace (no ``xmlns`` needed).

Every element a test or a user may look for carries a class and ``data-*`` attributes (the
step, the metric, the model), and every chart has a ``<title>`` saying what it shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

#: Fill colour of a step or execution status (the SageMaker API's values).
STATUS_COLOURS: Mapping[str, str] = {
    "Starting": "#90a4ae",
    "Executing": "#1e88e5",
    "Stopping": "#8d6e63",
    "Stopped": "#757575",
    "Failed": "#d32f2f",
    "Succeeded": "#2e7d32",
    "CompletedWithFailures": "#ef6c00",
}
CUSTOM_COLOUR = "#1565c0"
BASE_COLOUR = "#9e9e9e"
TIE_COLOUR = "#cfd8dc"
POSITIVE_COLOUR = "#2e7d32"
NEGATIVE_COLOUR = "#c62828"
#: One colour per metric line of the history chart (cycled).
SERIES_COLOURS = ("#1565c0", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457", "#558b2f", "#4e342e", "#283593")
FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:12px"


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def _text(x: float, y: float, content: str, **attrs: object) -> str:
    extra = "".join(
        f' {name.rstrip("_").replace("_", "-")}="{_attr(value)}"' for name, value in attrs.items()
    )
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(content)}</text>'


def _svg(width: float, height: float, title: str, body: Sequence[str], css_class: str) -> str:
    return (
        f'<svg class="chart {css_class}" role="img" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" style="{FONT}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _clip(text: str, limit: int) -> str:
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


def timeline_svg(steps: Sequence[TimelineStep], now: datetime, width: int = 760) -> str:
    """A Gantt-like bar per step from its start to its end (or now), coloured by status."""
    label_width, right_pad, row, reason_row, top = 230, 170, 30, 16, 28
    started = [s.start for s in steps if s.start is not None]
    origin = min(started) if started else now
    finish = max([*(s.end or now for s in steps if s.start is not None), origin])
    span = max((finish - origin).total_seconds(), 1.0)
    plot = width - label_width - right_pad
    height = top + row * max(len(steps), 1) + reason_row * sum(1 for s in steps if s.failure_reason) + 8
    body = [
        _text(label_width, 16, "0s", fill="#666"),
        _text(label_width + plot, 16, format_duration(span), fill="#666", text_anchor="end"),
        f'<line x1="{label_width}" y1="{top - 6}" x2="{label_width + plot}" y2="{top - 6}" stroke="#ddd"/>',
    ]
    y = top - row
    for step in steps:
        y += row
        body.append(_text(label_width - 8, y + 15, _clip(step.name, 34), text_anchor="end", fill="#222"))
        colour = STATUS_COLOURS.get(step.status, "#90a4ae")
        if step.start is None:
            body.append(
                f'<rect class="step-bar pending" data-step="{_attr(step.name)}" '
                f'data-status="{_attr(step.status)}" x="{label_width}" y="{y + 4}" width="{plot}" '
                f'height="16" rx="3" fill="none" stroke="#cfd8dc" stroke-dasharray="4 3"/>'
            )
            body.append(_text(label_width + plot + 6, y + 16, "not started", fill="#666"))
            continue
        x0 = label_width + plot * (step.start - origin).total_seconds() / span
        end = step.end or now
        bar = max(plot * (end - step.start).total_seconds() / span, 3)
        tip = f"{step.name}: {step.status}, {format_duration((end - step.start).total_seconds())}"
        if step.failure_reason:
            tip += f" - {step.failure_reason}"
        body.append(
            f'<rect class="step-bar" data-step="{_attr(step.name)}" data-status="{_attr(step.status)}" '
            f'x="{x0:.1f}" y="{y + 4}" width="{bar:.1f}" height="16" rx="3" fill="{colour}">'
            f"<title>{escape(tip)}</title></rect>"
        )
        running = "" if step.end else " \u2026"
        body.append(
            _text(
                label_width + plot + 6,
                y + 16,
                f"{step.status} {format_duration((end - step.start).total_seconds())}{running}",
                fill=colour,
            )
        )
        if step.failure_reason:
            body.append(
                _text(
                    label_width,
                    y + row + 8,
                    _clip(step.failure_reason, int((width - label_width) / 6.8)),
                    fill=NEGATIVE_COLOUR,
                    class_="reason",
                )
            )
            y += reason_row
    return _svg(width, height, "Step timeline", body, "timeline")


# Custom vs base metrics ------------------------------------------------------------------------------


def metrics_svg(
    custom: Mapping[str, float], base: Mapping[str, float], deltas: Mapping[str, float], width: int = 760
) -> str:
    """Per metric, a bar for the custom and one for the base model, with the delta at the right.

    Bars start at zero; negative values (a loss, a log-likelihood) extend to the left.
    """
    names = sorted(set(custom) | set(base))
    label_width, right_pad, bar_h, gap, top = 190, 90, 13, 12, 30
    values = [v for name in names for v in (custom.get(name), base.get(name)) if v is not None]
    low, high = min([0.0, *values]), max([0.0, *values])
    span = (high - low) or 1.0
    plot = width - label_width - right_pad - 60
    zero = label_width + plot * (0 - low) / span
    group = 2 * bar_h + gap
    height = top + group * max(len(names), 1) + 6
    body = [
        f'<rect x="{label_width}" y="6" width="12" height="10" fill="{CUSTOM_COLOUR}"/>',
        _text(label_width + 16, 15, "custom model", fill="#222"),
        f'<rect x="{label_width + 120}" y="6" width="12" height="10" fill="{BASE_COLOUR}"/>',
        _text(label_width + 136, 15, "base model", fill="#222"),
        _text(width - 8, 15, "delta", text_anchor="end", fill="#666"),
    ]
    for index, name in enumerate(names):
        y = top + index * group
        body.append(_text(label_width - 8, y + bar_h + 4, _clip(name, 28), text_anchor="end", fill="#222"))
        for offset, role, colour, mapping in (
            (0, "custom", CUSTOM_COLOUR, custom),
            (bar_h, "base", BASE_COLOUR, base),
        ):
            value = mapping.get(name)
            if value is None:
                continue
            x_end = label_width + plot * (value - low) / span
            x, w = min(zero, x_end), max(abs(x_end - zero), 1)
            body.append(
                f'<rect class="metric-bar" data-metric="{_attr(name)}" data-model="{role}" '
                f'data-value="{value}" x="{x:.1f}" y="{y + offset}" width="{w:.1f}" height="{bar_h - 1}" '
                f'fill="{colour}"><title>{escape(f"{role} {name} = {format_number(value)}")}</title></rect>'
            )
            body.append(
                _text(max(x_end, zero) + 4, y + offset + bar_h - 3, format_number(value), fill="#333")
            )
        delta = deltas.get(name)
        if delta is not None:
            colour = POSITIVE_COLOUR if delta >= 0 else NEGATIVE_COLOUR
            body.append(
                _text(
                    width - 8,
                    y + bar_h + 4,
                    format_delta(delta),
                    text_anchor="end",
                    fill=colour,
                    font_weight="600",
                    class_="delta",
                    data_metric=name,
                )
            )
    body.append(f'<line x1="{zero:.1f}" y1="{top - 4}" x2="{zero:.1f}" y2="{height - 4}" stroke="#bbb"/>')
    return _svg(width, height, "Metrics of the custom and the base model", body, "metrics")


def win_rate_svg(custom_wins: int, ties: int, base_wins: int, width: int = 760) -> str:
    """One stacked bar: the share of examples the judge preferred the custom model, a tie, the base model."""
    total = custom_wins + ties + base_wins
    parts = (
        ("custom", custom_wins, CUSTOM_COLOUR),
        ("tie", ties, TIE_COLOUR),
        ("base", base_wins, BASE_COLOUR),
    )
    height, bar_y, bar_h = 62, 8, 26
    body: list[str] = []
    x = 0.0
    for role, count, colour in parts:
        share = count / total if total else 0.0
        w = width * share
        if w > 0:
            label = f"{role} {share:.0%} ({count})"
            body.append(
                f'<rect class="win-rate" data-model="{role}" data-share="{share:.4f}" '
                f'x="{x:.1f}" y="{bar_y}" '
                f'width="{w:.1f}" height="{bar_h}" fill="{colour}"><title>{escape(label)}</title></rect>'
            )
            if w > 70:
                fill = "#fff" if role == "custom" else "#222"
                body.append(
                    _text(x + w / 2, bar_y + 17, label, text_anchor="middle", fill=fill, font_weight="600")
                )
        x += w
    body.append(
        _text(
            0,
            bar_y + bar_h + 20,
            f"{total} example pairs judged (custom wins / ties / base wins)",
            fill="#666",
        )
    )
    return _svg(width, height, "LLM-as-judge win rates", body, "win-rates")


# History ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryPoint:
    """One evaluation of the history: its run's label, the metric values and the gate's outcome."""

    label: str
    custom: Mapping[str, float]
    base: Mapping[str, float]
    gate_passed: bool | None


def history_svg(points: Sequence[HistoryPoint], metrics: Sequence[str], width: int = 900) -> str:
    """One line per metric and model over the runs (custom solid, base dashed), gate outcomes on top."""
    left, right, top, bottom = 56, 40, 34, 58
    height = 300
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

    body = [
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#e0e0e0"/>'
    ]
    for tick in range(5):
        value = low + (high - low) * tick / 4
        y = y_of(value)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#eee"/>')
        body.append(_text(left - 6, y + 4, f"{value:.3g}", text_anchor="end", fill="#666"))
    label_every = max(1, count // 8)
    for index, point in enumerate(points):
        x = x_of(index)
        if index % label_every == 0 or index == count - 1:
            body.append(
                _text(x, top + plot_h + 16, _clip(point.label, 16), text_anchor="middle", fill="#666")
            )
        if point.gate_passed is not None:
            outcome = "passed" if point.gate_passed else "failed"
            colour = POSITIVE_COLOUR if point.gate_passed else NEGATIVE_COLOUR
            body.append(
                f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="{colour}" '
                f'stroke-opacity="0.25" stroke-dasharray="2 3"/>'
            )
            body.append(
                f'<circle class="gate-mark" data-gate="{outcome}" data-run="{_attr(point.label)}" '
                f'cx="{x:.1f}" '
                f'cy="{top - 12}" r="7" fill="{colour}"><title>gate {outcome}: {escape(point.label)}</title>'
                f"</circle>"
            )
            body.append(
                _text(
                    x, top - 8, "\u2713" if point.gate_passed else "\u2717", text_anchor="middle", fill="#fff"
                )
            )
    legend_x = left
    for series, metric in enumerate(metrics):
        colour = SERIES_COLOURS[series % len(SERIES_COLOURS)]
        for role, mapping, dash in (("custom", "custom", ""), ("base", "base", ' stroke-dasharray="5 4"')):
            coords = [
                (x_of(i), y_of(value))
                for i, point in enumerate(points)
                if (value := getattr(point, mapping).get(metric)) is not None
            ]
            if not coords:
                continue
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            body.append(
                f'<polyline class="history-line" data-metric="{_attr(metric)}" data-model="{role}" '
                f'data-points="{len(coords)}" points="{path}" fill="none" stroke="{colour}" '
                f'stroke-width="2"{dash}/>'
            )
            for x, y in coords:
                shape = (
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>'
                    if role == "custom"
                    else f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#fff" stroke="{colour}"/>'
                )
                body.append(shape)
        legend_y = height - 14
        body.append(
            f'<line x1="{legend_x}" y1="{legend_y - 4}" x2="{legend_x + 18}" y2="{legend_y - 4}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        label = _clip(metric, 24)
        body.append(_text(legend_x + 22, legend_y, label, fill="#222"))
        legend_x += 30 + 7 * len(label)
    body.append(
        _text(
            width - right,
            height - 10,
            "solid: custom \u00b7 dashed: base \u00b7 top: gate outcome",
            text_anchor="end",
            fill="#666",
        )
    )
    return _svg(width, height, "Metrics over the runs (custom solid, base dashed)", body, "history")
