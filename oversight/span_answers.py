"""Span answers compared: when two answers of a span project are the same (disagreement, consensus) and when
an answer passes a gold check. Pure functions on core.spans dicts, shared by the review services and the
quality selectors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from core.span_metrics import SpanKey, span_f1, span_key

# Gold checks on span projects: an analyst's answer passes when its span F1 (exact match) against the gold
# spans is at least this. 1.0 is the item projects' rule (the very same answer); a gold check with no
# entities passes only with no spans. The project's gold_accuracy_threshold then bounds the share of failed
# checks, as for item labels, and the analyst's mean span F1 on checks shows how near the misses were.
SPAN_CHECK_PASS_F1 = 1.0


def spans_answer(spans: Iterable[Mapping[str, Any]] | None) -> frozenset[SpanKey]:
    """A span answer as a value to compare: two answers are the same when they mark the same spans."""
    return frozenset(span_key(span) for span in spans or ())


def spans_disagreeing(answers: Iterable[Sequence[Mapping[str, Any]] | None]) -> bool:
    """Whether the answers (each a span list) are not all the same."""
    return len({spans_answer(spans) for spans in answers}) > 1


def span_check_f1(
    gold: Sequence[Mapping[str, Any]] | None, given: Sequence[Mapping[str, Any]] | None
) -> float:
    """An answer's span F1 (exact match) on a gold check: 1.0 when neither marks anything."""
    return span_f1(gold or [], given or [])


def span_check_passed(
    gold: Sequence[Mapping[str, Any]] | None, given: Sequence[Mapping[str, Any]] | None
) -> bool:
    return span_check_f1(gold, given) >= SPAN_CHECK_PASS_F1
