"""Lay out a Chart as SVG shapes (positions only); the template draws them, autoescaped."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from recon.report.cells import format_value
from recon.report.data import Chart

WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 70, 16, 16, 64
PALETTE = ("#2f6db5", "#e07b39", "#3a9d5d", "#b5443a", "#7a5bb5", "#8c8c8c")
# Series named after a severity keep its colour on every chart (the page's badges use the same).
SEVERITY_COLORS = {"error": "#c0392b", "warning": "#d98c00", "info": "#8a94a0"}
MAX_LABELS = 24
MAX_BAR = 48.0


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    w: float
    h: float
    color: str
    tip: str


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "middle"
    rotate: bool = False


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    label: str = ""


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    bars: tuple[Bar, ...]
    xlabels: tuple[Text, ...]
    yticks: tuple[tuple[Line, Text], ...]
    markers: tuple[tuple[Line, Text], ...]
    legend: tuple[tuple[str, str], ...]  # (color, series name)
    axis: Line


def layout(chart: Chart) -> Layout:
    n = max(len(chart.categories), 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    base_y = TOP + plot_h
    peak = max((v for s in chart.series for v in s.values), default=0.0)
    step = _nice_step(peak / 5, whole=chart.value_format == "int") if peak > 0 else 1.0
    top = math.ceil(peak / step) * step if not chart.log_scale else peak

    def scale(v: float) -> float:
        v = max(v, 0.0)
        if chart.log_scale:
            return math.log10(1 + v) / math.log10(1 + top) if top > 0 else 0.0
        return v / top if top > 0 else 0.0

    colors = tuple(
        SEVERITY_COLORS.get(s.name, PALETTE[j % len(PALETTE)]) for j, s in enumerate(chart.series)
    )
    slot = plot_w / n
    bar_w = min(slot * 0.8 / max(len(chart.series), 1), MAX_BAR)
    bars = []
    for i, category in enumerate(chart.categories):
        for j, series in enumerate(chart.series):
            v = series.values[i]
            h = scale(v) * plot_h
            tip = f"{category} · {series.name}: {format_value(v, chart.value_format)}"
            x = LEFT + (i + 0.5) * slot - bar_w * len(chart.series) / 2 + j * bar_w
            bars.append(Bar(x, base_y - h, bar_w, h, colors[j], tip))
    every = math.ceil(n / MAX_LABELS)
    # Rotated labels end under their bar and run down to the left, inside the chart's width.
    xlabels = tuple(
        Text(LEFT + (i + 0.5) * slot, base_y + 10, c[:18], rotate=n > 8)
        for i, c in enumerate(chart.categories)
        if i % every == 0
    )
    return Layout(
        WIDTH,
        HEIGHT,
        tuple(bars),
        xlabels,
        _yticks(chart, top, step, scale, plot_h, base_y),
        tuple(
            (
                Line(LEFT + m.at * slot, TOP, LEFT + m.at * slot, base_y),
                Text(LEFT + m.at * slot - 4, TOP + 12, m.label, anchor="end"),
            )
            for m in chart.markers
        ),
        tuple(zip(colors, (s.name for s in chart.series), strict=True)),
        Line(LEFT, base_y, WIDTH - RIGHT, base_y),
    )


def _nice_step(raw: float, *, whole: bool) -> float:
    """1, 2, 2.5 or 5 times a power of ten: axis labels people can read."""
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return max(step, 1.0) if whole else step


def _yticks(
    chart: Chart,
    top: float,
    step: float,
    scale: Callable[[float], float],
    plot_h: float,
    base_y: float,
) -> tuple[tuple[Line, Text], ...]:
    if top <= 0:
        return ()
    if chart.log_scale:
        values = [10.0**k for k in range(int(math.log10(top)) + 1)]
    else:
        values = [step * k for k in range(1, round(top / step) + 1)]
    ticks = []
    for v in values:
        y = base_y - scale(v) * plot_h
        label = _short(v) if v >= 10_000 or not float(v).is_integer() else f"{v:,.0f}"
        ticks.append((Line(LEFT, y, WIDTH - RIGHT, y), Text(LEFT - 6, y + 4, label, anchor="end")))
    return tuple(ticks)


def _short(v: float) -> str:
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            return f"{v / size:,.{0 if (v / size).is_integer() else 1}f}{suffix}"
    return f"{v:,.2f}".rstrip("0").rstrip(".")
