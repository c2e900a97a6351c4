"""Declarative rules: validation, semantics, and the same label matrix as Snorkel's PandasLFApplier."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from django.core.exceptions import ValidationError
from snorkel.labeling import LabelingFunction as SnorkelLF
from snorkel.labeling import PandasLFApplier

from weak_supervision.declarative import (
    ABSTAIN,
    first_match,
    keyword_rules_votes,
    metadata_field_votes,
    rule_compile,
    rules_votes,
    spec_normalise,
)

TEXTS = ["Win a FREE prize now!", "free-range eggs", "C++ jobs, call now", "freedom", "Call me", ""]
META: list[dict[str, Any]] = [{"channel": "sms", "n": 3}, {"channel": "email", "n": 10}, {"channel": "sms"},
                              {"nested": {"x": "y"}}, {}, {"n": "7"}]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "spec", "expected"),
    [
        ("keyword", {"keywords": ["free"]}, [1, 1, -1, -1, -1, -1]),
        ("keyword", {"keywords": ["free"], "whole_words": False}, [1, 1, -1, 1, -1, -1]),
        ("keyword", {"keywords": ["free"], "case_sensitive": True}, [-1, 1, -1, -1, -1, -1]),
        ("keyword", {"keywords": ["call", "now"], "mode": "all"}, [-1, -1, 1, -1, -1, -1]),
        ("keyword", {"keywords": ["c++"]}, [-1, -1, 1, -1, -1, -1]),
        ("regex", {"pattern": r"\bcall\b"}, [-1, -1, 1, -1, 1, -1]),
        ("metadata", {"field": "channel", "operator": "eq", "value": "sms"}, [1, -1, 1, -1, -1, -1]),
        (
            "metadata",
            {"field": "channel", "operator": "in", "value": ["email", "fax"]},
            [-1, 1, -1, -1, -1, -1],
        ),
        ("metadata", {"field": "n", "operator": "gte", "value": 5}, [-1, 1, -1, -1, -1, 1]),
        ("metadata", {"field": "nested.x", "operator": "exists"}, [-1, -1, -1, 1, -1, -1]),
        ("metadata", {"field": "channel", "operator": "ne", "value": "sms"}, [-1, 1, -1, -1, -1, -1]),
    ],
)
def test_rules_vote_for_their_label_or_abstain(kind: str, spec: dict[str, Any], expected: list[int]) -> None:
    rule = rule_compile(kind, spec, 1)

    votes = rule.votes(TEXTS, META)

    assert votes.tolist() == expected
    assert [rule.vote(t, m) for t, m in zip(TEXTS, META, strict=True)] == expected


_MISSING = object()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (_MISSING, ABSTAIN),
        (None, ABSTAIN),
        ("", ABSTAIN),
        ("  \t\n", ABSTAIN),
        ([], ABSTAIN),
        ({}, ABSTAIN),
        ("2014-01-19T12:00:00", 1),
        (" x ", 1),
        (0, 1),
        (0.0, 1),
        (False, 1),
        ([""], 1),
        ({"a": None}, 1),
    ],
)  # fmt: skip
def test_exists_holds_only_for_a_field_with_a_value(value: Any, expected: int) -> None:
    # given a rule "DATE exists", and one item whose DATE is the value (or has no DATE at all)
    rule = rule_compile("metadata", {"field": "DATE", "operator": "exists"}, 1)
    metadata: dict[str, Any] = {} if value is _MISSING else {"DATE": value}
    column = pa.array([None if value is _MISSING else json.dumps(value)], type=pa.string())

    # when it votes: one item, a slice of items (the preview's path), and the field as the database reads it
    one = rule.vote("text", metadata)
    preview = rules_votes([rule], ["text"], [metadata])[:, 0].tolist()
    run = metadata_field_votes(rule, column).tolist()

    # then every path gives the same vote: empty values do not exist
    assert (one, preview, run) == (expected, [expected], [expected])


def test_exists_on_a_nested_field_skips_an_empty_one() -> None:
    # given
    rule = rule_compile("metadata", {"field": "meta.date", "operator": "exists"}, 0)
    rows: list[dict[str, Any]] = [{"meta": {"date": ""}}, {"meta": {"date": "2015"}}, {"meta": None}, {}]

    # when
    votes = rule.votes(["t"] * len(rows), rows)

    # then
    assert votes.tolist() == [ABSTAIN, 0, ABSTAIN, ABSTAIN]


@pytest.mark.parametrize(
    ("kind", "spec", "message"),
    [
        ("keyword", {"keywords": []}, "A keyword rule needs at least one keyword."),
        ("keyword", {"keywords": ["a"], "mode": "most"}, "Mode must be 'any' or 'all', not 'most'."),
        ("regex", {"pattern": "(unclosed"}, "The regular expression does not compile"),
        ("metadata", {"operator": "eq"}, "A metadata rule needs a field name"),
        ("metadata", {"field": "n", "operator": "gt", "value": "many"}, "The operator 'gt' needs a number."),
        ("metadata", {"field": "n", "operator": "like"}, "Unknown operator 'like'"),
        ("python", {}, "'python' is not a declarative kind"),
    ],
)
def test_bad_specs_are_refused_with_a_reason(kind: str, spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        spec_normalise(kind, spec)


def test_first_match_gives_the_span_to_highlight() -> None:
    rule = rule_compile("keyword", {"keywords": ["prize"]}, 0)
    assert first_match(rule, "Win a FREE prize now!") == (11, 16)


def _applier_matrix(rules: list[Any], frame: pd.DataFrame) -> np.ndarray:  # type: ignore[type-arg]
    snorkel_lfs = [
        SnorkelLF(name=f"lf{index}", f=lambda x, rule=rule: rule.vote(x.text, x.metadata))
        for index, rule in enumerate(rules)
    ]
    return PandasLFApplier(snorkel_lfs).apply(frame, progress_bar=False)


def _ten_rules() -> list[Any]:
    specs = [
        ("keyword", {"keywords": ["free", "win", "prize"]}, 1),
        ("keyword", {"keywords": ["call", "now"], "mode": "all"}, 1),
        ("keyword", {"keywords": ["txt", "text"], "case_sensitive": True}, 1),
        ("keyword", {"keywords": ["love", "home"]}, 0),
        ("keyword", {"keywords": ["ok", "lol"], "whole_words": False}, 0),
        ("regex", {"pattern": r"\d{5,}"}, 1),
        ("regex", {"pattern": r"https?://|www\."}, 1),
        ("regex", {"pattern": r"^(hi|hey|hello)\b"}, 0),
        ("metadata", {"field": "length", "operator": "gt", "value": 120}, 1),
        ("metadata", {"field": "length", "operator": "lt", "value": 20}, 0),
    ]
    return [rule_compile(kind, spec, label) for kind, spec, label in specs]


def test_the_vectorised_matrix_equals_pandas_lf_applier_on_the_sms_collection(shared_data: Path) -> None:
    # given the 5,574 real messages and ten rules of every kind
    lines = (shared_data / "sms_spam_uci" / "SMSSpamCollection").read_text(encoding="utf-8").splitlines()
    texts = [line.split("\t", 1)[1] for line in lines if "\t" in line]
    metadata = [{"length": len(text)} for text in texts]
    rules = _ten_rules()

    # when
    ours = np.column_stack([rule.votes(texts, metadata) for rule in rules])
    theirs = _applier_matrix(rules, pd.DataFrame({"text": texts, "metadata": metadata}))

    # then
    assert ours.shape == theirs.shape == (len(texts), 10)
    assert np.array_equal(ours, theirs)
    assert (ours != ABSTAIN).any(axis=0).all()  # every rule fires somewhere: the comparison is not vacuous


def test_the_vectorised_matrix_equals_pandas_lf_applier_on_generated_text() -> None:
    texts = [json.dumps(n) + (" free win" if n % 3 == 0 else " call me now") * (n % 4) for n in range(500)]
    metadata = [{"length": len(text)} for text in texts]
    rules = _ten_rules()

    ours = np.column_stack([rule.votes(texts, metadata) for rule in rules])

    assert np.array_equal(ours, _applier_matrix(rules, pd.DataFrame({"text": texts, "metadata": metadata})))


KEYWORD_SPECS = [
    {"keywords": ["free", "win", "prize"]},
    {"keywords": ["call", "now"], "mode": "all"},
    {"keywords": ["txt", "text"], "case_sensitive": True},
    {"keywords": ["ok", "lol"], "whole_words": False},
    {"keywords": ["c++", "ü", "a b"], "mode": "any"},
    {"keywords": ["FREE", "Call"], "case_sensitive": True, "mode": "all", "whole_words": False},
]


def _texts_with_edge_cases(shared_data: Path | None = None) -> list[str]:
    texts = ["", "free", "Free!", "freedom", "x_free", "free_x", "c++ rocks", "über ü", "a b c", "a  b",
             "FREE Call now", "call me now", "NOW CALL", "lol", "lollipop", "OK?", "txt me", "TXT me",
             "wïn a prïze", "win-win", "prize\\nfree"]  # fmt: skip
    if shared_data is not None:
        lines = (shared_data / "sms_spam_uci" / "SMSSpamCollection").read_text(encoding="utf-8").splitlines()
        texts += [line.split("\t", 1)[1] for line in lines if "\t" in line]
    return texts


def test_all_keyword_rules_at_once_equal_each_rule_alone(shared_data: Path) -> None:
    # given keyword rules of every mode and option, and real messages plus edge cases
    texts = _texts_with_edge_cases(shared_data)
    rules = [rule_compile("keyword", spec, index % 2) for index, spec in enumerate(KEYWORD_SPECS)]

    # when
    together = keyword_rules_votes(rules, texts)

    # then
    alone = np.column_stack([rule.votes(texts, [{}] * len(texts)) for rule in rules])
    assert np.array_equal(together, alone)
    assert (together != ABSTAIN).sum(axis=0).min() > 0
