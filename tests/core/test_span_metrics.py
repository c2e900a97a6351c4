from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from core.span_metrics import Prf, pairwise_span_f1, span_f1, span_prf, token_alpha, token_types
from core.spans import SpanDict, span_make, tag_spans, token_spans_to_spans, tokenize, tokens_join

TEXT = "Ada Lovelace met Charles Babbage in London"
OFFSETS = tokenize(TEXT)


def s(start: int, end: int, label: str) -> SpanDict:
    return span_make(TEXT, start, end, label)


ADA = s(0, 12, "per")
CHARLES = s(17, 32, "per")
LONDON = s(36, 42, "loc")


def test_exact_match_counts_tp_fp_fn_micro_and_per_type() -> None:
    # given: the second item's person is cut short, and a place is missed
    gold = [[ADA, LONDON], [CHARLES]]
    predicted = [[ADA], [s(17, 24, "per")]]

    # when
    scores = span_prf(gold, predicted)

    # then
    assert scores.micro == Prf(tp=1, fp=1, fn=2, precision=0.5, recall=1 / 3, f1=0.4)
    assert scores.per_type == {
        "loc": Prf(tp=0, fp=0, fn=1, precision=0.0, recall=0.0, f1=0.0),
        "per": Prf(tp=1, fp=1, fn=1, precision=0.5, recall=0.5, f1=0.5),
    }
    assert scores.n_items == 2


def test_overlap_match_needs_the_same_type_and_a_shared_character() -> None:
    # given
    gold = [[ADA, LONDON]]
    predicted = [[s(4, 12, "per"), s(36, 42, "org")]]

    # when
    exact = span_prf(gold, predicted, match="exact")
    overlap = span_prf(gold, predicted, match="overlap")

    # then
    assert (exact.micro.tp, exact.micro.fp, exact.micro.fn) == (0, 2, 2)
    assert (overlap.micro.tp, overlap.micro.fp, overlap.micro.fn) == (1, 1, 1)


def test_overlap_matching_is_one_to_one() -> None:
    # given: one long predicted span covers two gold spans of its type
    gold = [[s(0, 3, "per"), s(4, 12, "per")]]
    predicted = [[s(0, 12, "per")]]

    # when
    scores = span_prf(gold, predicted, match="overlap")

    # then
    assert (scores.micro.tp, scores.micro.fp, scores.micro.fn) == (1, 0, 1)


def test_overlap_matching_finds_the_largest_matching() -> None:
    # given: a greedy pairing of the first gold span with the first predicted span would leave one unpaired
    gold = [[s(0, 12, "per"), s(13, 16, "per")]]
    predicted = [[s(4, 16, "per"), s(0, 3, "per")]]

    # when
    scores = span_prf(gold, predicted, match="overlap")

    # then
    assert scores.micro.tp == 2


@pytest.mark.parametrize(
    ("gold", "predicted", "expected"),
    [
        ([], [], (1.0, 1.0, 1.0)),  # both say "no entities": perfect agreement
        ([ADA], [], (0.0, 0.0, 0.0)),
        ([], [ADA], (0.0, 0.0, 0.0)),
        ([ADA], [ADA], (1.0, 1.0, 1.0)),
    ],
)
def test_empty_sides_are_defined(
    gold: list[SpanDict], predicted: list[SpanDict], expected: tuple[float, ...]
) -> None:
    # when
    micro = span_prf([gold], [predicted]).micro

    # then
    assert (micro.precision, micro.recall, micro.f1) == expected
    assert span_f1(gold, predicted) == expected[2]


def test_no_items_score_as_agreement_and_mismatched_lengths_are_refused() -> None:
    # when
    scores = span_prf([], [])

    # then
    assert scores.micro.f1 == 1.0
    assert scores.per_type == {}
    with pytest.raises(ValueError, match="one span list per item"):
        span_prf([[ADA]], [])
    with pytest.raises(ValueError, match="Unknown match"):
        span_prf([[ADA]], [[ADA]], match="fuzzy")  # type: ignore[arg-type]


def test_f1_is_symmetric_and_rounding_keeps_counts() -> None:
    # given
    first = [[ADA, LONDON], [CHARLES]]
    second = [[ADA], [CHARLES, s(36, 42, "per")]]

    # when
    forward, backward = span_prf(first, second).micro, span_prf(second, first).micro

    # then
    assert forward.f1 == backward.f1 == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    assert (forward.precision, forward.recall) == (backward.recall, backward.precision)
    assert forward.rounded() == Prf(tp=2, fp=1, fn=1, precision=0.6667, recall=0.6667, f1=0.6667)
    assert span_prf(first, second).to_json()["per_type"]["loc"]["fn"] == 1


def test_pairwise_f1_covers_the_items_both_annotators_answered() -> None:
    # given: bob answered items 1 and 2, alice 1 and 3, cleo only 3
    answers: dict[str, dict[int, list[SpanDict]]] = {
        "alice": {1: [ADA, LONDON], 3: []},
        "bob": {1: [ADA, s(36, 42, "org")], 2: [CHARLES]},
        "cleo": {3: []},
    }

    # when
    pairs = pairwise_span_f1(answers)

    # then
    assert [(p.a, p.b, p.n_items) for p in pairs] == [("alice", "bob", 1), ("alice", "cleo", 1)]
    alice_bob, alice_cleo = pairs
    assert (alice_bob.exact.f1, alice_bob.overlap.f1) == (0.5, 0.5)
    assert alice_bob.per_type == {"loc": 0.0, "org": 0.0, "per": 1.0}
    assert alice_cleo.exact.f1 == 1.0  # both saw no entity in item 3


def test_pairwise_f1_of_one_annotator_is_empty() -> None:
    assert pairwise_span_f1({"alice": {1: [ADA]}}) == []


def test_token_types_name_the_covering_type() -> None:
    assert token_types(OFFSETS, [ADA, LONDON]) == ["per", "per", "O", "O", "O", "O", "loc"]


def test_token_alpha_is_one_for_identical_answers_and_lower_for_disagreement() -> None:
    # given
    same = [{"alice": [ADA, LONDON], "bob": [ADA, LONDON]}]
    differ = [{"alice": [ADA, LONDON], "bob": [ADA, s(36, 42, "org")]}]

    # when
    perfect, lower = token_alpha(same, [OFFSETS]), token_alpha(differ, [OFFSETS])

    # then
    assert perfect == 1.0
    assert lower is not None
    assert lower < 1.0


def test_token_alpha_matches_krippendorffs_formula() -> None:
    # given: 7 tokens rated by two annotators; they disagree on the last token (loc vs O)
    units = [{"alice": [ADA, LONDON], "bob": [ADA]}]

    # when
    alpha = token_alpha(units, [OFFSETS])

    # then: values per token pair: (per,per)x2, (O,O)x4, (loc,O); n = 14 pairable values
    # D_o = 2 / 14 (one disagreeing pair, counted both ways); D_e = (14^2 - 4^2 - 9^2 - 1^2) / (14 * 13)
    d_o = 2 / 14
    d_e = (14 * 14 - 4 * 4 - 9 * 9 - 1) / (14 * 13)
    assert alpha == pytest.approx(1 - d_o / d_e)


@pytest.mark.parametrize(
    "units",
    [
        [],  # no items
        [{"alice": [ADA]}],  # one annotator
        [{"alice": [], "bob": []}],  # every token O for everyone: no disagreement possible, 0/0
    ],
)
def test_token_alpha_is_none_where_undefined(units: list[dict[str, list[SpanDict]]]) -> None:
    assert token_alpha(units, [OFFSETS] * len(units)) is None


def _majority_tags(votes_per_token: list[list[str]]) -> list[str]:
    """A token is O unless an LF tags it; else the most common non-O tag (first seen wins a tie)."""
    tags = []
    for votes in votes_per_token:
        tagged = [vote for vote in votes if vote != "O"]
        tags.append(Counter(tagged).most_common(1)[0][0] if tagged else "O")
    return tags


def test_wikigold_majority_vote_scores_as_the_data_readme_says(shared_data: Path) -> None:
    # given: the WRENCH wikigold test split, read directly (gold BIO tags and the 16 LFs' tags per token)
    path = shared_data / "ner" / "wrench_wikigold" / "test.json"
    if not path.is_file():
        pytest.skip(f"{path} is absent (the shared NER data is not on this machine)")
    records = json.loads(path.read_text())
    gold, predicted, units, offsets = [], [], [], []
    for record in records.values():
        text, tokens = tokens_join(record["data"]["text"])
        truth = token_spans_to_spans(text, tokens, tag_spans(record["label"]))
        vote = token_spans_to_spans(text, tokens, tag_spans(_majority_tags(record["weak_labels"])))
        gold.append(truth)
        predicted.append(vote)
        units.append({"gold": truth, "vote": vote})
        offsets.append(tokens)

    # when
    exact = span_prf(gold, predicted).micro.rounded()
    overlap = span_prf(gold, predicted, match="overlap").micro
    alpha = token_alpha(units, offsets)

    # then: the README's 0.507 / 0.619 / 0.557
    assert (exact.tp, exact.fp, exact.fn) == (232, 226, 143)
    assert (exact.precision, exact.recall, exact.f1) == (0.5066, 0.6187, 0.557)
    assert overlap.f1 > exact.f1
    assert alpha == pytest.approx(0.7305, abs=1e-4)
