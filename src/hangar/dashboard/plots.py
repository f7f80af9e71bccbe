"""Plots of the last hour drawn as SVG on the server: no chart library, no script.

Each plot is a figure with a title, one line per series, the hour on the x axis
(now at the right), a y axis from 0 to a round maximum, and a caption that says
each series' latest value in words (for readers who cannot see the lines).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

from hangar.control.metrics import STATUS_CLASSES, WINDOW_S, TrafficPoint, UsagePoint

WIDTH, HEIGHT = 600, 150
LEFT, BOTTOM, TOP = 48, 20, 8
COLOURS = ("#116329", "#0b5cad", "#7d4e00", "#a40e26", "#6639ba", "#1b7c83")


@dataclass(frozen=True)
class Series:
    label: str
    points: list[tuple[float, float]]  # (seconds since the epoch, value)


def traffic_plots(traffic: list[TrafficPoint], now: float) -> list[Markup]:
    rates = [Series(name, [(p.at, p.per_second[name]) for p in traffic]) for name in STATUS_CLASSES]
    times = [
        Series("p50", [(p.at, p.p50_ms) for p in traffic if p.p50_ms is not None]),
        Series("p95", [(p.at, p.p95_ms) for p in traffic if p.p95_ms is not None]),
    ]
    return [
        plot("Requests per second, by status", "req/s", rates, now),
        plot("Response time at the edge", "ms", times, now),
    ]


def usage_plots(usage: dict[str, list[UsagePoint]], now: float) -> list[Markup]:
    cpu = [Series(m, [(p.at, p.cpu_percent) for p in points]) for m, points in usage.items()]
    memory = [Series(m, [(p.at, p.memory_mb) for p in points]) for m, points in usage.items()]
    return [
        plot("CPU per machine", "% of a CPU", cpu, now),
        plot("Memory per machine", "MB", memory, now),
    ]


def plot(title: str, unit: str, series: list[Series], now: float) -> Markup:
    top = nice_maximum(max((v for s in series for _, v in s.points), default=0.0))
    lines = "".join(_polyline(s, now, top, COLOURS[i % len(COLOURS)]) for i, s in enumerate(series))
    drawn = any(s.points for s in series)
    legend = "; ".join(_latest(s, unit) for s in series) if drawn else "no data yet"
    return Markup(
        f'<figure class="plot"><svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img"'
        f' aria-label="{escape(title)} over the last hour">'
        f"<title>{escape(title)}</title>{_axes(top, unit)}{lines}</svg>"
        f"<figcaption><strong>{escape(title)}</strong> — {legend}</figcaption>"
        f"{_key(series)}</figure>"
    )


def nice_maximum(value: float) -> float:
    """1, 2 or 5 times a power of ten, at or above `value` (1 for nothing)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(float(step * power) for step in (1, 2, 5, 10) if step * power >= value)


def _polyline(series: Series, now: float, top: float, colour: str) -> str:
    if not series.points:
        return ""
    coords = " ".join(f"{_x(at, now):.1f},{_y(value, top):.1f}" for at, value in series.points)
    at, value = series.points[-1]  # a dot on the latest value: one point is no line
    return (
        f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2">'
        f"<title>{escape(series.label)}</title></polyline>"
        f'<circle cx="{_x(at, now):.1f}" cy="{_y(value, top):.1f}" r="3" fill="{colour}"/>'
    )


def _axes(top: float, unit: str) -> str:
    grid = "".join(
        f'<line x1="{LEFT}" x2="{WIDTH}" y1="{_y(v, top):.1f}" y2="{_y(v, top):.1f}"'
        f' stroke="#d0d7de"/><text x="{LEFT - 4}" y="{_y(v, top) + 4:.1f}" text-anchor="end"'
        f' font-size="11" fill="#57606a">{_number(v)}</text>'
        for v in (0, top / 2, top)
    )
    ticks = "".join(
        f'<text x="{x}" y="{HEIGHT - 4}" text-anchor="{anchor}" font-size="11"'
        f' fill="#57606a">{label}</text>'
        for x, anchor, label in ((LEFT, "start", "1 hour ago"), (WIDTH, "end", "now"))
    )
    return grid + ticks + f"<desc>y axis: {escape(unit)}</desc>"


def _key(series: list[Series]) -> str:
    items = "".join(
        f'<li><span class="swatch c{i % len(COLOURS)}" aria-hidden="true"></span>'
        f" {escape(s.label)}</li>"
        for i, s in enumerate(series)
    )
    return f'<ul class="key">{items}</ul>' if items else ""


def _latest(series: Series, unit: str) -> str:
    if not series.points:
        return f"{escape(series.label)}: none"
    return f"{escape(series.label)}: {_number(series.points[-1][1])} {escape(unit)} now"


def _x(at: float, now: float) -> float:
    return LEFT + (WIDTH - LEFT) * max(0.0, 1 - (now - at) / WINDOW_S)


def _y(value: float, top: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - min(value, top) / top)


def _number(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == 0 else f"{value:.2g}"
