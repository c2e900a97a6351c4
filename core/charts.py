"""Generic server-side SVG charts: a line chart over categories (dates) and a horizontal bar chart.

No JavaScript and no CDN: each function returns one `<svg>` element with a fixed viewBox, so CSS sets its
width and the height follows. Every piece of text in it (titles, labels, series names) is escaped here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
LINE_HEIGHT = 260
# The side margins leave room for half of the first and last category labels, which are centred on their points.
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 56, 40, 36, 42
BAR_ROW = 24
BAR_LABEL_WIDTH = 190
BAR_VALUE_WIDTH = 70
# Readable on white, distinguishable with the common colour-vision deficiencies (Okabe-Ito).
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#f0e442", "#000000")
TEXT = "#374151"
GRID = "#e5e7eb"
MAX_X_LABELS = 8
# Above this many points a dot per point (each with its tooltip) only adds weight: the line alone is drawn.
MAX_DOTS = 120
LABEL_CHARS = 30
X_LABEL_CHARS = 12
CHAR_WIDTH = 7  # an average character of the 12px labels, in viewBox units

Point = tuple[str, float | None]


def _text(value: str, limit: int = 80) -> str:
    """Escaped, after shortening: cutting after escaping could split an entity such as `&amp;`."""
    return str(escape(value if len(value) <= limit else value[: limit - 1] + "…"))


def _number(value: float, percent: bool) -> str:
    if percent:
        whole = abs(value * 100 - round(value * 100)) < 1e-9
        return f"{value:.0%}" if whole else f"{value:.1%}"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.2f}" if abs(value) < 100 else f"{value:,.0f}"


def _open(height: int, title: str, kind: str) -> list[str]:
    label = _text(title, 200)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" preserveAspectRatio="xMinYMin meet" aria-label="{label}">'
        f"<title>{label}</title>"
    ]


def _empty(height: int, title: str, kind: str) -> SafeString:
    parts = _open(height, title, kind)
    parts.append(
        f'<text x="{WIDTH / 2:.0f}" y="{height / 2:.0f}" font-size="13" fill="{TEXT}" '
        f'text-anchor="middle">No data yet</text></svg>'
    )
    return mark_safe("".join(parts))  # noqa: S308 - the title is escaped in _open


def _nice_ceiling(value: float) -> float:
    """1, 2, 2.5 or 5 times a power of ten, at or above `value`: round numbers for the axis."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def _categories(series: Sequence[tuple[str, Sequence[Point]]]) -> list[str]:
    seen: dict[str, None] = {}
    for _, points in series:
        for x, _ in points:
            seen.setdefault(x, None)
    return list(seen)


def _tick(value: float, percent: bool) -> str:
    """An axis label: no more digits than the tick needs (0.5, 2.5, 10, 1,000, 25%)."""
    shown = round(value * 100 if percent else value, 6)
    text = f"{int(shown):,}" if shown.is_integer() else f"{shown:g}"
    return f"{text}%" if percent else text


def _y_axis(
    series: Sequence[tuple[str, Sequence[Point]]], y_max: float | None, percent: bool
) -> tuple[float, float, float]:
    """Bottom, top and tick step of the value axis: round numbers, zero included, about four steps."""
    values = [value for _, points in series for _, value in points if value is not None]
    bottom = min([0.0, *values])
    top = y_max if y_max is not None else (1.0 if percent else max([0.0, *values]))
    if top <= bottom:
        top = bottom + 1.0
    step = _nice_ceiling((top - bottom) / 4)
    bottom = math.floor(bottom / step + 1e-9) * step
    if y_max is None:
        top = math.ceil(top / step - 1e-9) * step
    return bottom, top, step


def _axes(low: float, high: float, step: float, categories: list[str], percent: bool) -> list[str]:
    parts = []
    plot_bottom, plot_height = LINE_HEIGHT - MARGIN_BOTTOM, LINE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    for index in range(math.floor((high - low) / step + 1e-9) + 1):
        value = low + step * index
        y = plot_bottom - plot_height * (value - low) / (high - low)
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" font-size="12" fill="{TEXT}" '
            f'text-anchor="end">{_tick(value, percent)}</text>'
        )
    for index in _shown_categories(categories):
        parts.append(
            f'<text x="{_x(index, len(categories)):.1f}" y="{plot_bottom + 20}" font-size="12" fill="{TEXT}" '
            f'text-anchor="middle">{_text(categories[index], X_LABEL_CHARS)}</text>'
        )
    return parts


def _shown_categories(categories: list[str]) -> list[int]:
    """Every n-th category label, n chosen so that no two labels overlap; the last one is always shown."""
    last = len(categories) - 1
    if last <= 0:
        return [0] if categories else []
    widest = CHAR_WIDTH * min(X_LABEL_CHARS, max(len(category) for category in categories)) + 12
    spacing = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / last
    every = max(1, math.ceil(last / (MAX_X_LABELS - 1)), math.ceil(widest / spacing))
    return [index for index in range(0, last, every) if last - index >= every] + [last]


def _x(index: int, count: int) -> float:
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    return MARGIN_LEFT + (plot_width / 2 if count == 1 else plot_width * index / (count - 1))


def _legend(names: list[str]) -> list[str]:
    parts, x = [], float(MARGIN_LEFT)
    for index, name in enumerate(names):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(
            f'<rect x="{x:.0f}" y="8" width="13" height="13" rx="2" fill="{colour}"/>'
            f'<text x="{x + 18:.0f}" y="19" font-size="13" fill="{TEXT}">{_text(name, LABEL_CHARS)}</text>'
        )
        x += 18 + 7.5 * min(len(name), LABEL_CHARS) + 20
    return parts


def _line(
    name: str, points: Sequence[Point], categories: list[str], colour: str, scale: tuple[float, float],
    percent: bool,
) -> list[str]:  # fmt: skip
    low, high = scale
    plot_bottom, plot_height = LINE_HEIGHT - MARGIN_BOTTOM, LINE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    position = {category: index for index, category in enumerate(categories)}
    segments: list[list[tuple[float, float, str, float]]] = [[]]
    for category, value in points:
        if value is None:  # a gap: the line breaks instead of dropping to zero
            segments.append([])
            continue
        clamped = min(max(value, low), high)
        y = plot_bottom - plot_height * (clamped - low) / (high - low)
        segments[-1].append((_x(position[category], len(categories)), y, category, value))
    parts = []
    for segment in segments:
        if len(segment) > 1:
            coordinates = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in segment)
            parts.append(f'<polyline points="{coordinates}" fill="none" stroke="{colour}" stroke-width="2"/>')
        if len(segment) == 1 or len(points) <= MAX_DOTS:
            parts.extend(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{_text(name)}, '
                f"{_text(category)}: {_number(value, percent)}</title></circle>"
                for x, y, category, value in segment
            )
    return parts


def line_chart(
    series: Sequence[tuple[str, Sequence[Point]]], *, title: str, y_max: float | None = None,
    percent: bool = False,
) -> SafeString:  # fmt: skip
    """Lines over shared categories (e.g. dates, in the order first seen), one per series, with a legend.

    A value of None leaves a gap in its line. With `percent`, values are fractions (0.5 is 50%) and the
    axis runs to 100% unless `y_max` says otherwise; values below zero extend the axis downwards.
    """
    categories = _categories(series)
    if not categories:
        return _empty(LINE_HEIGHT, title, "line")
    low, high, step = _y_axis(series, y_max, percent)
    scale = (low, high)
    parts = _open(LINE_HEIGHT, title, "line")
    parts.extend(_legend([name for name, _ in series]))
    parts.extend(_axes(low, high, step, categories, percent))
    for index, (name, points) in enumerate(series):
        parts.extend(_line(name, points, categories, PALETTE[index % len(PALETTE)], scale, percent))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text in it went through _text


def bar_chart(rows: Sequence[tuple[str, float]], *, title: str, percent: bool = False) -> SafeString:
    """Horizontal bars, one per row in the given order, each with its value written after it.

    With `percent`, values are fractions and the full width is 100%; otherwise it is the largest value.
    """
    height = BAR_ROW * len(rows) + 16
    if not rows:
        return _empty(80, title, "bar")
    top = max((value for _, value in rows), default=0.0)
    scale = 1.0 if percent else (top if top > 0 else 1.0)
    bar_width = WIDTH - BAR_LABEL_WIDTH - BAR_VALUE_WIDTH
    parts = _open(height, title, "bar")
    for index, (label, value) in enumerate(rows):
        y = 8 + index * BAR_ROW
        length = bar_width * min(max(value, 0.0), scale) / scale
        text = f"{_text(label)}: {_number(value, percent)}"
        parts.append(
            f'<text x="{BAR_LABEL_WIDTH - 8}" y="{y + 16}" font-size="13" fill="{TEXT}" text-anchor="end">'
            f"{_text(label, LABEL_CHARS)}</text>"
            f'<rect x="{BAR_LABEL_WIDTH}" y="{y + 2}" width="{max(length, 1.0):.1f}" height="{BAR_ROW - 6}" '
            f'rx="2" fill="{PALETTE[0]}"><title>{text}</title></rect>'
            f'<text x="{BAR_LABEL_WIDTH + length + 6:.1f}" y="{y + 16}" font-size="12" fill="{TEXT}">'
            f"{_number(value, percent)}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text in it went through _text
