"""Spans given for an item's text, checked against it and the project's entity types: the one rule every door
that takes spans (an analyst's answer, a reviewer's decision, an import's pre-annotations) reads them by."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError

from core.spans import SpanDict, span_make, spans_overlap, spans_sorted
from projects.models import Project
from projects.selectors import project_labels
from projects.services.label_keys import LabelKeys

MAX_SPANS = 1000
ERROR_SPANS_LIST = "Spans must be a list of objects with start, end and label."
ERROR_TOO_MANY_SPANS = f"At most {MAX_SPANS} spans per answer."
ERROR_SPAN_FIELDS = "Span {index}: start and end must be whole numbers and label a text."
ERROR_SPAN_RANGE = "Span {index}: {start}-{end} is not inside the text (0-{length}, end after start)."
ERROR_SPAN_QUOTE = "Span {index}: the quoted text {quote!r} is not the text at {start}-{end} ({actual!r})."
ERROR_SPAN_LABEL = "Span {index}: '{label}' is not an entity type of this project. The types are: {keys}."
ERROR_SPAN_RETIRED = "Span {index}: the entity type '{label}' is retired and takes no new spans."
ERROR_SPAN_OVERLAP = (
    "Spans {first} and {second} overlap; this project does not allow nested or overlapping spans."
)
ERROR_SPAN_DUPLICATE = "Spans {first} and {second} are the same span."
ERROR_NOT_SPANS = "This project labels whole items, not spans."


def spans_validate(*, project: Project, text: str, spans: Any, allow_retired: bool = False) -> list[SpanDict]:
    """The given spans checked against `text` (code-point offsets of the stored text, end exclusive; a
    given `text` of a span must be the quote at those offsets), with entity types read as label keys are
    (any spelling creation turns into the key), in text order. Refused with the span's 1-based position:
    offsets outside the text, an unknown (or, unless `allow_retired`, retired) type, a duplicate, and
    nested or overlapping spans unless the project allows them."""
    if not isinstance(spans, Sequence) or isinstance(spans, str | bytes):
        raise ValidationError(ERROR_SPANS_LIST, code="spans")
    if len(spans) > MAX_SPANS:
        raise ValidationError(ERROR_TOO_MANY_SPANS, code="spans")
    labels = project_labels(project=project)
    keys = LabelKeys(label.key for label in labels)
    retired = {label.key for label in labels if label.retired_at is not None}
    length = len(text)
    checked: list[SpanDict] = []
    for index, raw in enumerate(spans, start=1):
        if not isinstance(raw, Mapping):
            raise ValidationError(ERROR_SPANS_LIST, code="spans")
        start, end, label = raw.get("start"), raw.get("end"), raw.get("label")
        if type(start) is not int or type(end) is not int or not isinstance(label, str):
            raise ValidationError(ERROR_SPAN_FIELDS.format(index=index), code="spans")
        if not 0 <= start < end <= length:
            message = ERROR_SPAN_RANGE.format(index=index, start=start, end=end, length=length)
            raise ValidationError(message, code="spans")
        quote = raw.get("text")
        if quote is not None and quote != text[start:end]:
            message = ERROR_SPAN_QUOTE.format(
                index=index, quote=str(quote)[:80], start=start, end=end, actual=text[start:end][:80]
            )
            raise ValidationError(message, code="spans")
        key = keys.find(label)
        if key is None:
            message = ERROR_SPAN_LABEL.format(index=index, label=label[:64], keys=", ".join(keys.keys))
            raise ValidationError(message, code="spans")
        if key in retired and not allow_retired:
            raise ValidationError(ERROR_SPAN_RETIRED.format(index=index, label=key), code="spans")
        checked.append(span_make(text, start, end, key))
    seen: dict[tuple[int, int, str], int] = {}
    for index, span in enumerate(checked, start=1):
        first = seen.setdefault((span["start"], span["end"], span["label"]), index)
        if first != index:
            raise ValidationError(ERROR_SPAN_DUPLICATE.format(first=first, second=index), code="spans")
    if not project.allow_overlapping_spans:
        clash = spans_overlap(checked)
        if clash is not None:
            first, second = sorted(clash)
            raise ValidationError(ERROR_SPAN_OVERLAP.format(first=first + 1, second=second + 1), code="spans")
    return spans_sorted(checked)


def span_types_present(*, project: Project, spans: Sequence[SpanDict]) -> list[str]:
    """The entity types the spans use, in schema order: a span answer's `labels`."""
    used = {span["label"] for span in spans}
    return [label.key for label in project_labels(project=project) if label.key in used]
