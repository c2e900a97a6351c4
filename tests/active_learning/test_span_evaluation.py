from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from active_learning.audit import AUDIT_STRATUM, audit_draw
from active_learning.choices import Strategy
from active_learning.span_evaluation import (
    ADAPTIVE,
    RANDOM,
    UNCERTAINTY,
    SpanData,
    span_batch,
    span_policy,
    span_scores,
    span_simulate,
)
from active_learning.tagger import tagger_fit, tagger_predict
from core.spans import span_make, tag_spans, token_spans_to_spans, tokenize, tokens_join
from tests.active_learning.factories import span_sentence


@pytest.mark.parametrize(
    ("strategy", "policy"),
    [(Strategy.RANDOM, RANDOM), (Strategy.ADAPTIVE, ADAPTIVE), (Strategy.MARGIN, UNCERTAINTY),
     (Strategy.UNCERTAINTY, UNCERTAINTY), (Strategy.DIVERSE, UNCERTAINTY)],
)  # fmt: skip
def test_each_strategy_reads_as_a_span_policy(strategy: str, policy: str) -> None:
    assert span_policy(strategy) == policy


def test_span_scores_count_exact_matches_of_start_end_and_type() -> None:
    # given two texts: the first found right, the second's span with the wrong type, and one extra span
    text = "Alice met Bruno"
    truth = [[span_make(text, 0, 5, "per")], [span_make(text, 10, 15, "per")]]
    predicted = [
        [span_make(text, 0, 5, "per")],
        [span_make(text, 10, 15, "loc"), span_make(text, 6, 9, "loc")],
    ]

    # when
    scores = span_scores(truth, predicted)

    # then
    assert scores == {
        "n_heldout": 2,
        "span_precision": 0.3333,
        "span_recall": 0.5,
        "span_f1": 0.4,
        "n_spans": 2,
    }
    assert span_scores([], []) == {"n_heldout": 0}
    assert span_scores([[]], [[]])["span_f1"] == 1.0  # both say "no entities": they agree


def test_the_uncertainty_policy_takes_the_best_scores_and_random_a_seeded_draw() -> None:
    ids = np.arange(100, 120, dtype=np.int64)
    scores = np.linspace(0.0, 1.0, 20)

    assert span_batch(UNCERTAINTY, scores, ids, 3, "k").tolist() == [19, 18, 17]
    drawn = span_batch(RANDOM, scores, ids, 5, "k")
    assert drawn.tolist() == span_batch(UNCERTAINTY, None, ids, 5, "k").tolist()
    assert len(set(drawn.tolist())) == 5


def test_the_adaptive_policy_spreads_its_audit_share_from_the_audit_stratum_through_the_batch() -> None:
    # given a pool of 200 items scored by position
    ids = np.arange(1, 201, dtype=np.int64)
    scores = np.arange(200, dtype=np.float64)
    stratum = audit_draw(ids, "k") < AUDIT_STRATUM

    # when
    batch = span_batch(ADAPTIVE, scores, ids, 10, "k")

    # then one audit item (10% of 10), the first of the stratum by its draw, and nine best of the rest
    audit = [row for row in batch.tolist() if stratum[row]]
    chosen = [row for row in batch.tolist() if not stratum[row]]
    assert len(audit) == 1
    assert len(chosen) == 9
    draws = audit_draw(ids, "k")
    assert audit[0] == int(np.flatnonzero(stratum)[np.argmin(draws[stratum])])
    assert chosen == sorted(np.flatnonzero(~stratum).tolist(), reverse=True)[:9]


def _synthetic(indices: range) -> SpanData:
    sentences = [span_sentence(index) for index in indices]
    return SpanData([(text, tokenize(text)) for text, _ in sentences], [spans for _, spans in sentences],
                    np.asarray(list(indices), dtype=np.int64))  # fmt: skip


def test_span_simulate_draws_a_curve_of_span_f1_per_strategy() -> None:
    # given
    pool, test = _synthetic(range(40)), _synthetic(range(100, 110))

    # when
    result = span_simulate(pool=pool, test=test, types=["per", "loc"], strategies=["adaptive", "random"],
                           budget=12, step=4, seeds=2)  # fmt: skip

    # then
    assert (result["metric"], result["full_train"]) == ("span_f1", 1.0)
    for name in ("adaptive", "random"):
        curve = result["strategies"][name]["curve"]
        assert [n for n, _ in curve] == [4, 8, 12]
        assert all(0.0 <= value <= 1.0 for _, value in curve)
        assert result["strategies"][name]["labels_to_95"] == next(
            (n for n, value in curve if value >= 0.95), None
        )


def _wikigold(folder: Path, name: str) -> SpanData:
    texts, spans = [], []
    for row in json.loads((folder / f"{name}.json").read_text()).values():
        text, offsets = tokens_join(row["data"]["text"])
        tags = [tag if tag == "O" else tag[:2] + tag[2:].lower() for tag in row["label"]]
        texts.append((text, offsets))
        spans.append(token_spans_to_spans(text, offsets, tag_spans(tags)))
    return SpanData(texts, spans, np.arange(len(texts), dtype=np.int64))


def test_the_tagger_finds_most_of_wikigolds_test_entities_from_a_quarter_of_its_train_split(
    shared_data: Path,
) -> None:
    # given 400 train sentences of WRENCH wikigold (about 9,000 tokens)
    folder = shared_data / "ner" / "wrench_wikigold"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    train, test = _wikigold(folder, "train"), _wikigold(folder, "test")
    rows = np.arange(400, dtype=np.int64)

    # when
    started = time.perf_counter()
    tagger = tagger_fit(train.rows(rows).texts, train.rows(rows).spans, ["per", "loc", "org", "misc"])
    assert tagger is not None
    predicted = [result.spans for result in tagger_predict(tagger, test.texts)]
    seconds = time.perf_counter() - started

    # then (the whole train split gives 0.716; bench/spans_al.py)
    scores = span_scores(test.spans, predicted)
    assert (scores["n_heldout"], scores["n_spans"]) == (170, 375)
    assert scores["span_f1"] >= 0.5
    assert seconds < 20
