"""The span side of adjudication: the gold spans a reviewer decides for an item of a span project, given as a
list or taken from one of the item's answers, checked by the rule every span door shares
(labeling.services.spans.spans_validate).

A decision on a span project sets GoldLabel.spans (core.spans dicts in text order) and GoldLabel.labels (the
types present, in schema order; empty: "no entities"), through oversight.services.review.review_decide.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError

from core.spans import SpanDict
from labeling.services.spans import span_types_present, spans_validate
from projects.models import Project

ERROR_SPANS_ONLY = "Spans are answers of span projects only; this project takes labels."
ERROR_SPANS_MISSING = "Give the gold spans (an empty list: no entities) or the answer whose spans to accept."
ERROR_SPANS_BOTH = "Give the gold spans or the answer to accept, not both."
ERROR_ANSWER_UNKNOWN = "No answer {annotation_id} on this item."


def gold_spans_decided(
    *, project: Project, text: str, spans: Sequence[Any] | None, annotation_id: int | None,
    based_on: Sequence[dict[str, Any]],
) -> tuple[list[str], list[SpanDict]]:  # fmt: skip
    """A span project's decision on an item's text: the spans given, or those of the answer accepted (one of
    `based_on`, the annotations the reviewer saw, with their spans), checked (offsets inside the text, quotes
    matching, known types, overlaps only where the project allows them; an accepted answer may keep a type
    retired since it was given); and the types they hold, in schema order."""
    if spans is not None and annotation_id is not None:
        raise ValidationError(ERROR_SPANS_BOTH, code="spans")
    if annotation_id is not None:
        accepted = next((row for row in based_on if row["annotation_id"] == annotation_id), None)
        if accepted is None:
            raise ValidationError(ERROR_ANSWER_UNKNOWN.format(annotation_id=annotation_id), code="annotation")
        spans = accepted["spans"]
    if spans is None:
        raise ValidationError(ERROR_SPANS_MISSING, code="spans")
    checked = spans_validate(project=project, text=text, spans=spans, allow_retired=annotation_id is not None)
    return span_types_present(project=project, spans=checked), checked
