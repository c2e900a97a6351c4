"""Template filters of the truth-inference displays (the inference page, the annotator table)."""

from __future__ import annotations

from typing import Any

from django import template

from oversight.choices import SourceKind

register = template.Library()


@register.filter
def confusion_rows(matrix: dict[str, Any]) -> list[tuple[str, list[float]]]:
    """A confusion matrix's rows, each beside its true class: {"classes", "rows"} -> [(class, row), ...]."""
    return list(zip(matrix.get("classes") or [], matrix.get("rows") or [], strict=False))


@register.filter
def source_kind(value: str) -> str:
    """A SourceKind value's name: "lf" -> "Labeling function"."""
    return str(SourceKind(value).label) if value in SourceKind.values else value
