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
MAX_LABELS = 24


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

    def scale(v: float) -> float:
        v = max(v, 0.0)
        if chart.log_scale:
            return math.log10(1 + v) / math.log10(1 + peak) if peak > 0 else 0.0
        return v / peak if peak > 0 else 0.0

    slot = plot_w / n
    bar_w = slot * 0.8 / max(len(chart.series), 1)
    bars = []
    for i, category in enumerate(chart.categories):
        for j, series in enumerate(chart.series):
            v = series.values[i]
            h = scale(v) * plot_h
            tip = f"{category} · {series.name}: {format_value(v, chart.value_format)}"
            x = LEFT + i * slot + slot * 0.1 + j * bar_w
            bars.append(Bar(x, base_y - h, bar_w, h, PALETTE[j % len(PALETTE)], tip))
    step = math.ceil(n / MAX_LABELS)
    xlabels = tuple(
        Text(LEFT + (i + 0.5) * slot, base_y + 12, c[:18], rotate=n > 8)
        for i, c in enumerate(chart.categories)
        if i % step == 0
    )
    return Layout(
        WIDTH,
        HEIGHT,
        tuple(bars),
        xlabels,
        _yticks(chart, peak, scale, plot_h, base_y),
        tuple(
            (
                Line(LEFT + m.at * slot, TOP, LEFT + m.at * slot, base_y),
                Text(LEFT + m.at * slot - 4, TOP + 12, m.label, anchor="end"),
            )
            for m in chart.markers
        ),
        tuple((PALETTE[j % len(PALETTE)], s.name) for j, s in enumerate(chart.series)),
        Line(LEFT, base_y, WIDTH - RIGHT, base_y),
    )


def _yticks(
    chart: Chart, peak: float, scale: Callable[[float], float], plot_h: float, base_y: float
) -> tuple[tuple[Line, Text], ...]:
    if peak <= 0:
        return ()
    if chart.log_scale:
        values = [10**k for k in range(int(math.log10(peak)) + 1)]
    else:
        values = [peak * k / 4 for k in range(1, 5)]
    ticks = []
    for v in values:
        y = base_y - scale(v) * plot_h
        fmt = "int" if chart.log_scale or chart.value_format == "int" else chart.value_format
        label = _short(v) if fmt != "int" or v >= 10_000 else format_value(v, "int")
        ticks.append((Line(LEFT, y, WIDTH - RIGHT, y), Text(LEFT - 6, y + 4, label, anchor="end")))
    return tuple(ticks)


def _short(v: float) -> str:
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            return f"{v / size:,.1f}{suffix}"
    return f"{v:,.0f}"
