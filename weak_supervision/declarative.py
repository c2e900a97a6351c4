"""Declarative labeling functions: keyword, regex and metadata rules, validated, then applied vectorised.

Each rule votes for one label (its index in the schema) or abstains (-1). `votes()` applies a rule to a
whole slice of items at once (pandas' vectorised string matching); `vote()` applies it to one item and is
the reference that the tests compare with Snorkel's PandasLFApplier.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from django.core.exceptions import ValidationError

from weak_supervision.choices import KeywordMode, LabelingFunctionKind, MetadataOperator

ABSTAIN = -1
MAX_KEYWORDS = 200
MAX_PATTERN = 2000
ERROR_NO_KEYWORDS = "A keyword rule needs at least one keyword."
ERROR_TOO_MANY_KEYWORDS = f"A keyword rule takes at most {MAX_KEYWORDS} keywords."
ERROR_PATTERN = "The regular expression does not compile: {error}."
ERROR_PATTERN_EMPTY = "A regex rule needs a pattern."
ERROR_PATTERN_LONG = f"A pattern may be at most {MAX_PATTERN} characters."
ERROR_FIELD = "A metadata rule needs a field name (dots reach into nested objects)."
ERROR_OPERATOR = "Unknown operator '{operator}'; use one of: {operators}."
ERROR_VALUE_LIST = "The operator 'in' needs a list of values."
ERROR_VALUE_NUMBER = "The operator '{operator}' needs a number."
ERROR_KIND = "'{kind}' is not a declarative kind (keyword, regex, metadata)."

Votes = npt.NDArray[np.int8]


@dataclass(frozen=True)
class Rule:
    """A validated rule, ready to apply."""

    kind: str
    spec: dict[str, Any]
    label_index: int
    votes: Callable[[Sequence[str], Sequence[dict[str, Any]]], Votes]
    vote: Callable[[str, dict[str, Any]], int]


# --- validation ----------------------------------------------------------------------------------------------
def spec_normalise(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with defaults filled in and types checked; ValidationError names what is wrong."""
    if kind == LabelingFunctionKind.KEYWORD:
        return _keyword_spec(spec)
    if kind == LabelingFunctionKind.REGEX:
        return _regex_spec(spec)
    if kind == LabelingFunctionKind.METADATA:
        return _metadata_spec(spec)
    raise ValidationError(ERROR_KIND.format(kind=kind), code="kind")


def _keyword_spec(spec: dict[str, Any]) -> dict[str, Any]:
    raw = spec.get("keywords") or []
    keywords = [raw] if isinstance(raw, str) else [str(word) for word in raw]
    keywords = list(dict.fromkeys(word.strip() for word in keywords if str(word).strip()))
    if not keywords:
        raise ValidationError(ERROR_NO_KEYWORDS, code="keywords")
    if len(keywords) > MAX_KEYWORDS:
        raise ValidationError(ERROR_TOO_MANY_KEYWORDS, code="keywords")
    mode = spec.get("mode", KeywordMode.ANY)
    if mode not in KeywordMode.values:
        raise ValidationError(f"Mode must be 'any' or 'all', not '{mode}'.", code="mode")
    return {"keywords": keywords, "mode": mode, "case_sensitive": bool(spec.get("case_sensitive", False)),
            "whole_words": bool(spec.get("whole_words", True))}  # fmt: skip


def _regex_spec(spec: dict[str, Any]) -> dict[str, Any]:
    pattern = str(spec.get("pattern") or "")
    if not pattern:
        raise ValidationError(ERROR_PATTERN_EMPTY, code="pattern")
    if len(pattern) > MAX_PATTERN:
        raise ValidationError(ERROR_PATTERN_LONG, code="pattern")
    case_sensitive = bool(spec.get("case_sensitive", False))
    try:
        re.compile(pattern, 0 if case_sensitive else re.IGNORECASE)
    except re.error as exc:
        raise ValidationError(ERROR_PATTERN.format(error=exc), code="pattern") from exc
    return {"pattern": pattern, "case_sensitive": case_sensitive}


def _metadata_spec(spec: dict[str, Any]) -> dict[str, Any]:
    field = str(spec.get("field") or "").strip()
    if not field:
        raise ValidationError(ERROR_FIELD, code="field")
    operator = spec.get("operator", MetadataOperator.EQ)
    if operator not in MetadataOperator.values:
        message = ERROR_OPERATOR.format(operator=operator, operators=", ".join(MetadataOperator.values))
        raise ValidationError(message, code="operator")
    value = spec.get("value")
    if operator == MetadataOperator.IN and not isinstance(value, list):
        raise ValidationError(ERROR_VALUE_LIST, code="value")
    numeric = {MetadataOperator.GT, MetadataOperator.GTE, MetadataOperator.LT, MetadataOperator.LTE}
    if operator in numeric and _number(value) is None:
        raise ValidationError(ERROR_VALUE_NUMBER.format(operator=operator), code="value")
    return {"field": field, "operator": operator, "value": value}


# --- compiling ---------------------------------------------------------------------------------------------
def rule_compile(kind: str, spec: dict[str, Any], label_index: int) -> Rule:
    spec = spec_normalise(kind, spec)
    if kind == LabelingFunctionKind.METADATA:
        test = _metadata_test(spec)
        return Rule(kind, spec, label_index, _metadata_votes(test, label_index),
                    lambda text, metadata: label_index if test(metadata) else ABSTAIN)  # fmt: skip
    patterns = _text_patterns(kind, spec)
    return Rule(kind, spec, label_index, _text_votes(patterns, label_index),
                lambda text, metadata: label_index if all(p.search(text) for p in patterns) else ABSTAIN)  # fmt: skip


def _text_patterns(kind: str, spec: dict[str, Any]) -> list[re.Pattern[str]]:
    flags = 0 if spec["case_sensitive"] else re.IGNORECASE
    if kind == LabelingFunctionKind.REGEX:
        return [re.compile(spec["pattern"], flags)]
    words = [re.escape(word) for word in spec["keywords"]]
    if spec["whole_words"]:
        # \b fails next to a non-word character ("c++"), so whole words are bounded by "not a word character".
        words = [rf"(?<!\w){word}(?!\w)" for word in words]
    if spec["mode"] == KeywordMode.ANY:
        return [re.compile("|".join(words), flags)]
    return [re.compile(word, flags) for word in words]


def _text_votes(patterns: list[re.Pattern[str]], label_index: int) -> Callable[..., Votes]:
    def votes(texts: Sequence[str], metadata: Sequence[dict[str, Any]]) -> Votes:
        series = pd.Series(texts, dtype=object)
        hit = np.ones(len(series), dtype=bool)
        with warnings.catch_warnings():
            # pandas warns that groups in a pattern are not extracted: only whether it matches counts here.
            warnings.filterwarnings(
                "ignore", "This pattern is interpreted as a regular expression", UserWarning
            )
            for pattern in patterns:
                hit &= series.str.contains(pattern, regex=True, na=False).to_numpy(dtype=bool)
        return np.where(hit, label_index, ABSTAIN).astype(np.int8)

    return votes


def _metadata_votes(test: Callable[[dict[str, Any]], bool], label_index: int) -> Callable[..., Votes]:
    def votes(texts: Sequence[str], metadata: Sequence[dict[str, Any]]) -> Votes:
        hit = np.fromiter((test(row) for row in metadata), dtype=bool, count=len(metadata))
        return np.where(hit, label_index, ABSTAIN).astype(np.int8)

    return votes


_MISSING = object()


def _lookup(metadata: Any, path: list[str]) -> Any:
    value = metadata
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _metadata_test(spec: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    path, operator, expected = spec["field"].split("."), spec["operator"], spec["value"]
    wanted = _number(expected)

    def compare(found: Any) -> bool:
        if operator == MetadataOperator.EXISTS:
            return True
        if operator == MetadataOperator.EQ:
            return bool(found == expected or str(found) == str(expected))
        if operator == MetadataOperator.NE:
            return not (found == expected or str(found) == str(expected))
        if operator == MetadataOperator.IN:
            return found in expected or str(found) in {str(value) for value in expected}
        if operator == MetadataOperator.CONTAINS:
            return str(expected).lower() in str(found).lower()
        number = _number(found)
        if number is None or wanted is None:
            return False
        return {
            "gt": number > wanted,
            "gte": number >= wanted,
            "lt": number < wanted,
            "lte": number <= wanted,
        }[operator]

    def test(metadata: dict[str, Any]) -> bool:
        found = _lookup(metadata, path)
        return found is not _MISSING and compare(found)

    return test


def first_match(rule: Rule, text: str) -> tuple[int, int] | None:
    """Where a text rule matches in a text (for highlighting), or None."""
    if rule.kind == LabelingFunctionKind.METADATA:
        return None
    for pattern in _text_patterns(rule.kind, rule.spec):
        found = pattern.search(text)
        if found:
            return found.start(), found.end()
    return None
