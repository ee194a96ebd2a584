"""Bar charts drawn on the server as inline SVG: the page needs no script and no outside service
to show them, and prints as it looks. Here the geometry; templates/supervision/_chart.html
draws it. Every chart carries its data as a table too (the alternative to the picture), in
the same words and order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 960, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 14, 36  # room for the value axis and the category labels
MOST_LABELS = 16  # category labels under the bars; with more bars, every n-th is labelled


@dataclass(frozen=True)
class Series:
    key: str  # its colour (a class in static/supervision.css)
    label: str
    values: Sequence[float | None]  # one per category; None: nothing measured


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    key: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Label:
    x: float
    text: str


@dataclass(frozen=True)
class BarChart:
    id: str
    title: str
    description: str  # what the bars show, for those who hear the chart
    series: list[Series]
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[Label]
    columns: list[str]  # the table alternative: the category's heading, then the series'
    rows: list[list[str]]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    bottom: int = HEIGHT - BOTTOM


def nice_top(largest: float) -> tuple[float, float]:
    """A round top for the value axis and its step: 1, 2 or 5 times a power of ten, at most five steps."""
    if largest <= 0:
        return 1.0, 1.0
    power = 10 ** math.floor(math.log10(largest / 5))
    step = next(s * power for s in (1, 2, 5, 10) if largest / (s * power) <= 5)
    return step * math.ceil(largest / step), step


def bar_chart(
    id: str,
    title: str,
    description: str,
    heading: str,
    categories: Sequence[tuple[str, str]],
    series: list[Series],
    *,
    stacked: bool,
    shown: Callable[[float | None], str],
    axis: Callable[[float], str] | None = None,
) -> BarChart:
    """`categories`: (short label under the bar, full label in the table). Stacked bars add up
    their series (tickets by outcome); otherwise each series is drawn over the one before,
    narrower, so the later ones must be the smaller (a median over its 90th percentile)."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    totals = [
        sum(v or 0 for v in values) if stacked else max((v or 0 for v in values), default=0)
        for values in zip(*(s.values for s in series), strict=True)
    ]
    top, step = nice_top(max(totals, default=0))
    band = plot_width / max(len(categories), 1)
    bars: list[Bar] = []
    for n, _category in enumerate(categories):
        base = 0.0
        for depth, s in enumerate(series):
            value = s.values[n] or 0
            if value <= 0:
                continue
            share = 0.7 if stacked else 0.7 * (1 - 0.35 * depth)
            width = max(band * share, 1.0)
            height = value / top * plot_height
            y = TOP + plot_height - (base + height if stacked else height)
            bars.append(
                Bar(
                    round(LEFT + band * (n + 0.5) - width / 2, 2), round(y, 2), round(width, 2), round(height, 2), s.key
                )
            )
            if stacked:
                base += height
    every = math.ceil(len(categories) / MOST_LABELS) or 1
    return BarChart(
        id=id,
        title=title,
        description=description,
        series=series,
        bars=bars,
        ticks=[
            Tick(round(TOP + plot_height - k * step / top * plot_height, 2), (axis or shown)(k * step))
            for k in range(round(top / step) + 1)
        ],
        labels=[
            Label(round(LEFT + band * (n + 0.5), 2), short) for n, (short, _) in enumerate(categories) if n % every == 0
        ],
        columns=[heading, *(s.label for s in series)],
        rows=[[full, *(shown(s.values[n]) for s in series)] for n, (_, full) in enumerate(categories)],
    )
