"""Server-side SVG charts (no JavaScript, no CDN): LF coverage and accuracy as horizontal bars."""

from __future__ import annotations

from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

ROW = 22
LABEL_WIDTH = 180
BAR_WIDTH = 300
SERIES = (("coverage", "#2563eb", "coverage"), ("empirical_accuracy", "#16a34a", "accuracy on gold"))


def lf_bar_chart(rows: list[dict[str, Any]]) -> SafeString:
    """One row per LF with a bar for coverage and one for empirical accuracy (where gold labels exist)."""
    height = ROW * len(rows) * 2 + 40
    width = LABEL_WIDTH + BAR_WIDTH + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-label="Coverage and accuracy per labeling function">'
    ]
    for index, (_, colour, name) in enumerate(SERIES):
        x = LABEL_WIDTH + index * 160
        parts.append(
            f'<rect x="{x}" y="4" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="15" font-size="12">{name}</text>'
        )
    for row_index, row in enumerate(rows):
        top = 30 + row_index * ROW * 2
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{top + ROW - 6}" font-size="12" text-anchor="end">'
            f"{escape(str(row['name']))[:32]}</text>"
        )
        for series_index, (key, colour, name) in enumerate(SERIES):
            value = row.get(key)
            y = top + series_index * (ROW - 4)
            if value is None:
                parts.append(
                    f'<text x="{LABEL_WIDTH}" y="{y + 13}" font-size="11" fill="#6b7280">no gold</text>'
                )
                continue
            length = max(1.0, float(value) * BAR_WIDTH)
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{ROW - 8}" fill="{colour}">'
                f"<title>{escape(str(row['name']))}: {name} {float(value):.1%}</title></rect>"
                f'<text x="{LABEL_WIDTH + length + 4:.1f}" y="{y + 11}" font-size="11">{float(value):.0%}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text in it is escaped above
