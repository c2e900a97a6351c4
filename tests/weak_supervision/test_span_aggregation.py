"""Span aggregation: token votes, majority vote's tie rule, the HMM, the choice on held-out gold, and the
WRENCH wikigold baseline reproduced from the data's own per-token LF tags."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from core.spans import tag_spans, token_spans_to_spans, tokens_join
from weak_supervision.span_aggregation import (
    SpanGold,
    SpanKey,
    TokenVotes,
    hmm,
    item_confidence,
    item_spans,
    majority_vote,
    span_aggregator_select,
    span_scores,
    weighted_vote,
)

TYPES = ["per", "loc"]
B_PER, I_PER, B_LOC, I_LOC = 1, 2, 3, 4


def _tokens(*items: list[list[int]]) -> TokenVotes:
    """Items of tokens "w0 w1 ..." (each 2 chars + a space), a row of LF tag codes per token."""
    votes = [row for item in items for row in item]
    offsets = [(3 * t, 3 * t + 2) for item in items for t in range(len(item))]
    starts = np.concatenate([[0], np.cumsum([len(item) for item in items])])
    return TokenVotes(np.asarray(votes, np.int8), np.asarray(offsets, np.int32), starts.astype(np.int64), k=2)


def test_majority_vote_counts_only_non_o_votes_and_breaks_ties_by_the_earliest_lf() -> None:
    # given: token 0: one LF says B-PER, two say O; token 1: B-LOC (LF 1) against B-PER (LF 2), a tie
    tokens = _tokens([[B_PER, 0, 0], [0, B_LOC, B_PER], [0, 0, 0]])

    # when
    answer = majority_vote(tokens)

    # then
    assert answer.tags.tolist() == [B_PER, B_LOC, 0]
    assert item_spans(tokens, answer.tags, TYPES, [0]) == [[(0, 2, "per"), (3, 5, "loc")]]
    assert answer.posteriors[1].round(2).tolist() == [0.0, 0.5, 0.0, 0.5, 0.0]
    confidence, covered = item_confidence(tokens, answer)
    assert (confidence.round(2).tolist(), covered.tolist()) == ([0.75], [True])


def test_weighted_vote_follows_the_lf_that_is_right_on_gold() -> None:
    # given: LF 0 and LF 1 disagree on every token; gold agrees with LF 1
    tokens = _tokens(*[[[B_PER, B_LOC]] for _ in range(6)])
    gold = np.full(6, B_LOC, dtype=np.int8)

    # when
    answer = weighted_vote(tokens, gold)

    # then (majority vote would take the earliest LF's B-PER)
    assert answer.tags.tolist() == [B_LOC] * 6
    assert majority_vote(tokens).tags.tolist() == [B_PER] * 6


def test_the_hmm_gives_valid_bio_sequences_and_agrees_with_clear_votes() -> None:
    # given: two LFs agreeing on "w0 w1" as a person in every item, a third LF silent
    items = [[[B_PER, B_PER, 0], [I_PER, I_PER, 0], [0, 0, 0]] for _ in range(20)]
    tokens = _tokens(*items)

    # when
    answer = hmm(tokens)

    # then
    assert item_spans(tokens, answer.tags, TYPES, [0, 19]) == [[(0, 5, "per")], [(0, 5, "per")]]
    assert np.allclose(answer.posteriors.sum(axis=1), 1.0)


def test_without_gold_the_choice_is_majority_vote() -> None:
    # given
    tokens = _tokens([[B_PER, 0]], [[0, B_LOC]])

    # when
    selection = span_aggregator_select(
        tokens=tokens, types=TYPES, gold=SpanGold({}), valid=np.zeros(2, bool), ids=np.arange(2)
    )

    # then
    assert (selection.name, selection.selected_on, selection.scores) == ("majority_vote", "default", {})
    assert set(selection.answers) == {"majority_vote", "hmm"}
    assert "weighted_vote" in selection.skipped


def test_on_valid_gold_the_better_aggregator_is_chosen_and_test_spans_are_never_read() -> None:
    # given: LF 0 is wrong (PER) and first, LF 1 right (LOC); 40 valid items with gold LOC, 20 others with gold
    items = [[[B_PER, B_LOC]] for _ in range(60)]
    tokens = _tokens(*items)
    gold = SpanGold({i: [(0, 2, "loc")] for i in range(60)})
    valid = np.arange(60) < 40

    # when
    selection = span_aggregator_select(tokens=tokens, types=TYPES, gold=gold, valid=valid, ids=np.arange(60))

    # then
    assert selection.selected_on == "valid"
    assert selection.scores["majority_vote"] == 0.0
    assert selection.scores["weighted_vote"] == 1.0
    assert selection.name == "weighted_vote"
    assert (selection.n_heldout, selection.n_heldout_spans) == (40, 40)


def test_span_scores_are_exact_match_micro_and_per_type() -> None:
    gold: list[list[SpanKey]] = [[(0, 2, "per"), (3, 5, "loc")], []]
    predicted: list[list[SpanKey]] = [[(0, 2, "per"), (3, 6, "loc")], [(0, 2, "loc")]]

    scores = span_scores(gold, predicted)

    assert (scores["precision"], scores["recall"], scores["f1"]) == (0.3333, 0.5, 0.4)
    assert (scores["tp"], scores["fp"], scores["fn"]) == (1, 2, 1)
    assert scores["per_type"]["per"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    assert scores["per_type"]["loc"]["f1"] == 0.0


# --- WRENCH wikigold, read straight from its files ----------------------------------------------------------
def _wikigold(folder: Path, split: str) -> tuple[TokenVotes, list[list[SpanKey]], list[str]]:
    meta = json.loads((folder / "meta.json").read_text())
    types = [kind.lower() for kind in meta["entity_types"]]
    index = {kind: position for position, kind in enumerate(types)}

    def code(tag: str) -> int:
        prefix, _, kind = tag.partition("-")
        return 0 if tag == "O" else 2 * index[kind.lower()] + (1 if prefix == "B" else 2)

    records = json.loads((folder / f"{split}.json").read_text())
    votes, offsets, starts, gold = [], [], [0], []
    for record in records.values():
        text, item_offsets = tokens_join(record["data"]["text"])
        # "weak_labels": a row per token, a tag per LF in meta.json's "lf" order
        votes += [[code(tag) for tag in row] for row in record["weak_labels"]]
        offsets += item_offsets
        starts.append(starts[-1] + len(item_offsets))
        spans = token_spans_to_spans(text, item_offsets, tag_spans(record["label"]))
        gold.append([(span["start"], span["end"], span["label"].lower()) for span in spans])
    tokens = TokenVotes(
        np.asarray(votes, np.int8), np.asarray(offsets, np.int32), np.asarray(starts, np.int64), k=len(types)
    )
    assert tokens.votes.shape[1] == len(meta["lf"]) == 16
    return tokens, gold, types


@pytest.fixture
def wikigold(shared_data: Path) -> Path:
    folder = shared_data / "ner" / "wrench_wikigold"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent (the WRENCH wikigold folder of ../shared/data/ner)")
    return folder


def test_token_majority_vote_reproduces_the_published_wikigold_baseline(wikigold: Path) -> None:
    # given
    tokens, gold, types = _wikigold(wikigold, "test")

    # when
    answer = majority_vote(tokens)
    scores = span_scores(gold, item_spans(tokens, answer.tags, types, range(tokens.n_items)))

    # then: the data's README gives span P/R/F1 0.507 / 0.619 / 0.557
    assert (len(gold), sum(map(len, gold))) == (170, 375)
    assert scores["precision"] == pytest.approx(0.507, abs=0.005)
    assert scores["recall"] == pytest.approx(0.619, abs=0.005)
    assert scores["f1"] == pytest.approx(0.557, abs=0.005)


def test_the_hmm_fits_wikigold_in_seconds_near_majority_vote(wikigold: Path) -> None:
    # given
    tokens, gold, types = _wikigold(wikigold, "test")

    # when
    started = time.perf_counter()
    answer = hmm(tokens)
    seconds = time.perf_counter() - started
    scores = span_scores(gold, item_spans(tokens, answer.tags, types, range(tokens.n_items)))

    # then (measured: P/R/F1 0.525 / 0.571 / 0.547 on the test split; 0.563 F1 on train, majority vote 0.558)
    assert scores["f1"] == pytest.approx(0.547, abs=0.01)
    assert seconds < 5
