"""Template helpers of span review: an item's text with one answer's spans highlighted, a colour per type."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

DEFAULT_COLOR = "#6b7280"
_HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def _color(colors: Mapping[str, str], label: str) -> str:
    """The type's colour from the schema; only a #rrggbb value reaches the page (a data attribute that
    csp_styles.js applies: the Content-Security-Policy allows no style attribute)."""
    color = colors.get(label, DEFAULT_COLOR)
    return color if _HEX_COLOR.fullmatch(color) else DEFAULT_COLOR


def _inside(spans: Sequence[Mapping[str, Any]], start: int, end: int) -> list[Mapping[str, Any]]:
    return [span for span in spans if span["start"] <= start and end <= span["end"]]


@register.simple_tag
def span_text(text: str, spans: Sequence[Mapping[str, Any]], colors: Mapping[str, str]) -> SafeString:
    """The text cut at every span boundary; a stretch inside spans is marked in the colour of the innermost
    (shortest) one, titled with every type covering it (nested or overlapping spans show as such), and each
    span ends with a tag naming its type. Everything from the text is escaped."""
    valid = [span for span in spans if 0 <= int(span["start"]) < int(span["end"]) <= len(text)]
    cuts = sorted({0, len(text), *(int(s["start"]) for s in valid), *(int(s["end"]) for s in valid)})
    parts: list[str] = []
    for start, end in itertools.pairwise(cuts):
        covering = _inside(valid, start, end)
        piece = text[start:end]
        if not covering:
            parts.append(escape(piece))
        else:
            inner = min(covering, key=lambda span: span["end"] - span["start"])
            color = _color(colors, str(inner["label"]))
            title = ", ".join(sorted({str(span["label"]) for span in covering}))
            parts.append(
                format_html(
                    '<mark class="seg in-span{}" data-span-color="{}" title="{}">{}</mark>',
                    " nested" if len(covering) > 1 else "", color, title, piece,
                )
            )  # fmt: skip
        for span in valid:
            if int(span["end"]) == end:
                color = _color(colors, str(span["label"]))
                parts.append(
                    format_html('<span class="span-tag" data-tag-color="{}">{}</span>', color, span["label"])
                )
    return mark_safe("".join(parts))  # noqa: S308 - every piece above is escaped or built by format_html


@register.filter
def spans_json(spans: Sequence[Mapping[str, Any]]) -> str:
    """Spans as the JSON a reviewer edits (escaped by the template like any other text)."""
    return json.dumps(list(spans), ensure_ascii=False)
