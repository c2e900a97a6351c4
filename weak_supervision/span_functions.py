"""Span labeling functions (span projects): gazetteer and regex rules that mark stretches of an item's text.

A span LF is saved like any LF (a version's `label` is the entity type's key, its `spec` the rule) and
marks, per item, a list of spans `(start, end, type)` in code points of the item's text:
- **keyword** (a gazetteer): every occurrence of any of its terms, `case_sensitive` (default no) and
  `whole_words` (default yes: bounded by no word character, as item keyword rules are); all the keyword LFs of
  a run are found in one Aho-Corasick pass per item and case mode (`keyword_rules_spans`);
- **regex**: every match of the pattern, the span of its capture group `group` (default: 1 where the pattern
  has a group, else the whole match); empty matches mark nothing;
- **python**: `label(item)` returns spans (weak_supervision.sandbox.python_spans);
- **external**: spans stored as ExternalSpanVote rows by an import.
Within one LF, overlapping matches keep the leftmost, then the longest (an LF marks a token once).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ahocorasick
from django.core.exceptions import ValidationError

from weak_supervision.choices import LabelingFunctionKind
from weak_supervision.declarative import regex_spec_normalise

MAX_TERMS = 50_000  # a gazetteer's terms (the automaton holds them all: about 100 bytes each)
ERROR_NO_TERMS = "A gazetteer needs at least one term."
ERROR_TOO_MANY_TERMS = f"A gazetteer takes at most {MAX_TERMS:,} terms."
ERROR_GROUP = "The pattern has {groups} capture group(s); group {group} does not exist."
ERROR_SPAN_KIND = "Span projects take keyword (gazetteer), regex and Python labeling functions, not '{kind}'."

Span = tuple[int, int, str]  # start, end, entity type key


def span_spec_normalise(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A span rule's spec with defaults filled in and types checked; ValidationError names what is wrong."""
    if kind == LabelingFunctionKind.KEYWORD:
        raw = spec.get("keywords") or []
        terms = [raw] if isinstance(raw, str) else [str(term) for term in raw]
        terms = list(dict.fromkeys(term.strip() for term in terms if term.strip()))
        if not terms:
            raise ValidationError(ERROR_NO_TERMS, code="keywords")
        if len(terms) > MAX_TERMS:
            raise ValidationError(ERROR_TOO_MANY_TERMS, code="keywords")
        return {
            "keywords": terms,
            "case_sensitive": bool(spec.get("case_sensitive", False)),
            "whole_words": bool(spec.get("whole_words", True)),
        }
    if kind == LabelingFunctionKind.REGEX:
        checked = regex_spec_normalise(spec)
        pattern, case_sensitive = checked["pattern"], checked["case_sensitive"]
        compiled = re.compile(pattern, 0 if case_sensitive else re.IGNORECASE)
        group = spec.get("group")
        group = (1 if compiled.groups else 0) if group in (None, "") else _integer(group)
        if not 0 <= group <= compiled.groups:
            raise ValidationError(ERROR_GROUP.format(groups=compiled.groups, group=group), code="group")
        return {"pattern": pattern, "case_sensitive": case_sensitive, "group": group}
    raise ValidationError(ERROR_SPAN_KIND.format(kind=kind), code="kind")


def _integer(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"The group must be a number, not '{value}'.", code="group") from exc


@dataclass(frozen=True)
class SpanRule:
    """A validated keyword or regex span rule and the entity type it marks."""

    kind: str
    spec: dict[str, Any]
    label: str


def span_rule_compile(kind: str, spec: dict[str, Any], label: str) -> SpanRule:
    return SpanRule(kind, span_spec_normalise(kind, spec), label)


def leftmost_longest(spans: list[Span]) -> list[Span]:
    """The spans without overlaps: the leftmost first, then the longest, each later overlapping one dropped."""
    kept: list[Span] = []
    reach = -1
    for span in sorted(spans, key=lambda span: (span[0], -span[1])):
        if span[0] >= reach:
            kept.append(span)
            reach = span[1]
    return kept


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def keyword_rules_spans(rules: Sequence[SpanRule], texts: Sequence[str]) -> list[list[list[Span]]]:
    """Per rule, per text, the spans of its terms: one Aho-Corasick automaton per case mode holds every rule's
    terms, and each text is read once per mode."""
    found: list[list[list[Span]]] = [[[] for _ in texts] for _ in rules]
    for lower in (True, False):
        chosen = [index for index, rule in enumerate(rules) if (not rule.spec["case_sensitive"]) == lower]
        if not chosen:
            continue
        automaton = ahocorasick.Automaton()
        wanted: dict[str, list[int]] = {}
        for index in chosen:
            for term in rules[index].spec["keywords"]:
                wanted.setdefault(term.lower() if lower else term, []).append(index)
        for term, owners in wanted.items():
            automaton.add_word(term, (len(term), owners))
        automaton.make_automaton()
        for row, raw in enumerate(texts):
            text = raw.lower() if lower else raw
            if len(text) != len(raw):  # a character whose lower case is longer: offsets would drift
                text = raw
            for end, (length, owners) in automaton.iter(text):
                start = end - length + 1
                bounded = (start == 0 or not _is_word_char(text[start - 1])) and (
                    end + 1 == len(text) or not _is_word_char(text[end + 1])
                )
                for index in owners:
                    if bounded or not rules[index].spec["whole_words"]:
                        found[index][row].append((start, end + 1, rules[index].label))
    return [[leftmost_longest(spans) for spans in per_text] for per_text in found]


def regex_rule_spans(rule: SpanRule, text: str) -> list[Span]:
    flags = 0 if rule.spec["case_sensitive"] else re.IGNORECASE
    pattern = re.compile(rule.spec["pattern"], flags)
    group = rule.spec["group"]
    spans = []
    for match in pattern.finditer(text):
        start, end = match.span(group)
        if 0 <= start < end:
            spans.append((start, end, rule.label))
    return leftmost_longest(spans)


def span_rules_spans(rules: Sequence[SpanRule], texts: Sequence[str]) -> list[list[list[Span]]]:
    """Per rule, per text, the spans it marks: the keyword rules together, the regex rules one by one."""
    result: list[list[list[Span]]] = [[] for _ in rules]
    keyword = [index for index, rule in enumerate(rules) if rule.kind == LabelingFunctionKind.KEYWORD]
    for index, spans in zip(keyword, keyword_rules_spans([rules[i] for i in keyword], texts), strict=True):
        result[index] = spans
    for index, rule in enumerate(rules):
        if rule.kind == LabelingFunctionKind.REGEX:
            result[index] = [regex_rule_spans(rule, text) for text in texts]
    return result
