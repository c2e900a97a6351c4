"""Span rules: gazetteers (one Aho-Corasick pass, case and whole-word options) and regexes with a group."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from weak_supervision.span_functions import (
    ERROR_GROUP,
    ERROR_NO_TERMS,
    ERROR_SPAN_KIND,
    leftmost_longest,
    span_rule_compile,
    span_rules_spans,
    span_spec_normalise,
)

TEXTS = ["Anna met Paris Hilton in paris.", "Parisian cafés of PARIS", "Ünal in Paris"]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, [[(9, 14, "loc"), (25, 30, "loc")], [(18, 23, "loc")], [(8, 13, "loc")]]),
        ({"case_sensitive": True}, [[(9, 14, "loc")], [], [(8, 13, "loc")]]),
        ({"whole_words": False}, [[(9, 14, "loc"), (25, 30, "loc")], [(0, 5, "loc"), (18, 23, "loc")],
                                  [(8, 13, "loc")]]),
    ],
)  # fmt: skip
def test_a_gazetteer_marks_every_occurrence_with_its_options(
    options: dict[str, bool], expected: object
) -> None:
    # given
    rule = span_rule_compile("keyword", {"keywords": ["Paris"], **options}, "loc")

    # when
    spans = span_rules_spans([rule], TEXTS)[0]

    # then
    assert spans == expected


def test_several_gazetteers_are_found_together_and_overlaps_keep_the_leftmost_longest() -> None:
    # given
    places = span_rule_compile("keyword", {"keywords": ["Paris", "Paris Hilton Hotel"]}, "loc")
    people = span_rule_compile(
        "keyword", {"keywords": ["Paris Hilton", "Anna"], "case_sensitive": True}, "per"
    )

    # when
    found = span_rules_spans([places, people], TEXTS)

    # then
    assert found[0][0] == [(9, 14, "loc"), (25, 30, "loc")]
    assert found[1][0] == [(0, 4, "per"), (9, 21, "per")]
    assert leftmost_longest([(0, 5, "x"), (0, 9, "x"), (3, 12, "x"), (9, 11, "x")]) == [
        (0, 9, "x"),
        (9, 11, "x"),
    ]


def test_a_regex_marks_its_capture_group() -> None:
    # given
    rule = span_rule_compile("regex", {"pattern": r"met (\w+ \w+)"}, "per")
    whole = span_rule_compile("regex", {"pattern": r"[A-Z]\w+", "case_sensitive": True}, "per")

    # when / then
    assert span_rules_spans([rule], TEXTS)[0] == [[(9, 21, "per")], [], []]
    assert rule.spec["group"] == 1
    assert whole.spec["group"] == 0
    assert span_rules_spans([whole], TEXTS[:1])[0] == [[(0, 4, "per"), (9, 14, "per"), (15, 21, "per")]]


@pytest.mark.parametrize(
    ("kind", "spec", "message"),
    [
        ("keyword", {"keywords": [" "]}, ERROR_NO_TERMS),
        ("regex", {"pattern": r"(a)", "group": 2}, ERROR_GROUP.format(groups=1, group=2)),
        ("metadata", {"field": "x"}, ERROR_SPAN_KIND.format(kind="metadata")),
    ],
)
def test_invalid_span_rules_are_refused(kind: str, spec: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        span_spec_normalise(kind, spec)
    assert raised.value.messages == [message]
