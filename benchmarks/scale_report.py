"""The scale run's arithmetic and tables (``benchmarks/scale.py``): pure functions, no stack, no I/O.

Kept apart from the script so that they are unit-tested without starting anything
(``tests/benchmarks/test_scale_report.py``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, linearly interpolated between the closest ranks
    (numpy's default): p50 of ``[1, 2, 3, 4]`` is 2.5."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be within 0-100, not {q!r}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def peak_overlap(intervals: Iterable[tuple[float, float]]) -> int:
    """The largest number of ``(start, end)`` intervals open at one instant.

    An interval that ends at the instant another starts does not overlap it (ends sort first).
    """
    edges = sorted(
        [(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals],
        key=lambda edge: (edge[0], edge[1]),
    )
    open_now = peak = 0
    for _, step in edges:
        open_now += step
        peak = max(peak, open_now)
    return peak


@dataclass
class Usage:
    """CPU seconds and peak memory of one component's process tree over a run, from its samples.

    Each sample is the tree's CPU seconds so far (user + system of the live processes plus what
    their reaped children used) and its summed RSS. CPU over the run is the last sample minus the
    first; peak RSS is the largest sample.
    """

    first_cpu: float | None = None
    last_cpu: float = 0.0
    peak_rss: int = 0
    samples: int = 0

    def add(self, cpu_seconds: float, rss_bytes: int) -> None:
        if self.first_cpu is None:
            self.first_cpu = cpu_seconds
        self.last_cpu = cpu_seconds
        self.peak_rss = max(self.peak_rss, rss_bytes)
        self.samples += 1

    @property
    def cpu_seconds(self) -> float:
        """CPU used between the first and the last sample (never negative: a tree restarted
        from scratch counts from zero)."""
        if self.first_cpu is None:
            return 0.0
        return max(0.0, self.last_cpu - self.first_cpu)


@dataclass
class UsageMeter:
    """The ``Usage`` of each component, fed one sample per component at a time."""

    usage: dict[str, Usage] = field(default_factory=dict)

    def add(self, component: str, cpu_seconds: float, rss_bytes: int) -> None:
        self.usage.setdefault(component, Usage()).add(cpu_seconds, rss_bytes)

    def cpu_seconds(self, component: str) -> float:
        usage = self.usage.get(component)
        return usage.cpu_seconds if usage else 0.0

    def peak_rss(self, component: str) -> int:
        usage = self.usage.get(component)
        return usage.peak_rss if usage else 0


def counter_deltas(
    before: Mapping[str, Mapping[str, int]], after: Mapping[str, Mapping[str, int]]
) -> dict[str, dict[str, int]]:
    """Per table, each counter's growth from ``before`` to ``after`` (``pg_stat_user_tables``
    n_tup_ins / n_tup_upd ...); a table new in ``after`` counts from zero."""
    return {
        table: {name: value - before.get(table, {}).get(name, 0) for name, value in counters.items()}
        for table, counters in after.items()
    }


def busiest(deltas: Mapping[str, Mapping[str, int]], count: int) -> list[tuple[str, dict[str, int]]]:
    """The ``count`` tables with the most rows written (inserted + updated + deleted), most first;
    tables with none are left out."""
    written = {
        table: sum(counters.get(name, 0) for name in ("n_tup_ins", "n_tup_upd", "n_tup_del"))
        for table, counters in deltas.items()
    }
    ranked = sorted((table for table in written if written[table] > 0), key=lambda t: (-written[t], t))
    return [(table, dict(deltas[table])) for table in ranked[:count]]


def calls_of(counts: Mapping[str, Mapping[str, int]], service: str) -> int:
    """All calls of one service in the emulator's call log (``{"sagemaker": {"Op": n}}``)."""
    return sum(counts.get(service, {}).values())


def per(value: float, evaluations: int) -> float:
    """``value`` per evaluation."""
    if evaluations <= 0:
        raise ValueError(f"evaluations must be positive, not {evaluations!r}")
    return value / evaluations


def ratio(ours: float | None, peer: float | None) -> str:
    """``ours / peer`` as ``0.12x``; ``-`` where either is missing or the peer's is zero."""
    if ours is None or peer is None or peer == 0:
        return "-"
    return f"{ours / peer:.2f}x"


def number(value: float | None, digits: int = 1) -> str:
    """A figure for the table: thousands separated, ``digits`` decimals, ``-`` when missing."""
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: the title, the header, a rule, one line per row, columns left-aligned."""
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"row {list(row)} has {len(row)} cells, the header {len(header)}")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)
