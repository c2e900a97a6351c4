"""The aggregators and the choice between them: held-out usable gold decides, the simpler wins ties,
abstains, ties and classes no LF votes for are handled as documented."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from weak_supervision import aggregators
from weak_supervision.aggregators import (
    ABSTAIN,
    Problem,
    aggregator_select,
    class_prior,
    dawid_skene,
    distinct_rows,
    majority_vote,
    weighted_majority_vote,
)
from weak_supervision.ties import predictions


def _synthetic(
    n: int = 3000, k: int = 3, accuracies: tuple[float, ...] = (0.9, 0.85, 0.6, 0.55, 0.4), seed: int = 3
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int64]]:
    """LFs of known accuracies that each vote on half the items (a wrong vote: any other class)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n)
    matrix = np.full((n, len(accuracies)), ABSTAIN, dtype=np.int8)
    for column, accuracy in enumerate(accuracies):
        fires = rng.random(n) < 0.5
        right = rng.random(n) < accuracy
        wrong = (truth + rng.integers(1, k, n)) % k
        matrix[fires, column] = np.where(right, truth, wrong)[fires]
    return matrix, truth.astype(np.int64)


def test_majority_vote_splits_ties_evenly_and_gives_uncovered_items_the_prior() -> None:
    # given a tie, a clear vote and no vote
    patterns = np.array([[0, 1, -1], [1, 1, 0], [-1, -1, -1]], dtype=np.int8)
    problem = Problem(patterns=patterns, counts=np.ones(3, dtype=np.int64), k=2)
    prior = np.array([0.8, 0.2])

    # when
    fitted = majority_vote(problem, (np.zeros(0, np.intp), np.zeros(0, np.int64)), prior)

    # then
    assert fitted.probabilities == pytest.approx(np.array([[0.5, 0.5], [1 / 3, 2 / 3], [0.8, 0.2]]))


def test_a_tie_is_broken_by_a_fair_coin_per_item_the_same_every_time() -> None:
    # given 2,000 items tied between two classes
    tied = np.full((2000, 2), 0.5)
    ids = np.arange(2000, dtype=np.int64)

    # when
    first, second = predictions(tied, ids), predictions(tied, ids)

    # then no class is favoured, and an item always gets the same answer
    assert np.array_equal(first, second)
    assert 0.45 < first.mean() < 0.55
    assert np.array_equal(predictions(np.array([[0.2, 0.8]]), np.array([7])), [1])


def test_weighted_majority_vote_trusts_the_lfs_that_are_right_on_gold() -> None:
    # given two LFs that disagree everywhere, the second right on every gold item
    patterns = np.array([[0, 1], [1, 0]], dtype=np.int8)
    problem = Problem(patterns=patterns, counts=np.array([50, 50]), k=2)
    gold = (np.array([0] * 20 + [1] * 20, dtype=np.intp), np.array([1] * 20 + [0] * 20, dtype=np.int64))

    # when
    fitted = weighted_majority_vote(problem, gold, np.array([0.5, 0.5]))

    # then the second LF's vote wins
    assert predictions(fitted.probabilities, np.arange(2)).tolist() == [1, 0]


def test_dawid_skene_recovers_better_than_majority_vote_when_lfs_differ_in_accuracy() -> None:
    # given LFs of very different accuracies
    matrix, truth = _synthetic()
    patterns, counts, rows = distinct_rows(matrix)
    problem = Problem(patterns=patterns, counts=counts, k=3)
    no_gold = (np.zeros(0, np.intp), np.zeros(0, np.int64))
    prior = np.full(3, 1 / 3)

    # when
    ds = predictions(dawid_skene(problem, no_gold, prior).probabilities[rows], np.arange(len(truth)))
    mv = predictions(majority_vote(problem, no_gold, prior).probabilities[rows], np.arange(len(truth)))

    # then
    covered = (matrix != ABSTAIN).any(axis=1)
    assert np.mean(ds[covered] == truth[covered]) > np.mean(mv[covered] == truth[covered]) + 0.02


def test_without_gold_the_default_is_majority_vote() -> None:
    # given no usable gold
    matrix, _ = _synthetic(n=500)
    gold = np.full(len(matrix), -1, dtype=np.int64)

    # when
    selection = aggregator_select(
        matrix=matrix, k=3, gold=gold, valid=np.zeros(len(matrix), bool), ids=np.arange(len(matrix))
    )

    # then
    assert (selection.name, selection.selected_on, selection.scores) == ("majority_vote", "default", {})
    assert "supervised" not in selection.probabilities  # it needs gold
    assert np.allclose(selection.prior, 1 / 3)


def test_with_gold_outside_a_large_valid_split_the_choice_is_made_on_the_valid_split() -> None:
    # given gold on 300 train items and 300 valid items
    matrix, truth = _synthetic(n=3000)
    gold = np.full(len(truth), -1, dtype=np.int64)
    gold[:600] = truth[:600]
    valid = np.zeros(len(truth), bool)
    valid[300:600] = True

    # when
    selection = aggregator_select(matrix=matrix, k=3, gold=gold, valid=valid, ids=np.arange(len(truth)))

    # then the LFs' unequal accuracies make a weighted candidate beat plain votes on held-out items
    assert selection.selected_on == "valid"
    assert selection.name != "majority_vote"
    assert selection.scores[selection.name] > selection.scores["majority_vote"]
    assert set(selection.scores) == {"majority_vote", "weighted_majority_vote", "dawid_skene", "label_model",
                                     "supervised"}  # fmt: skip


def test_with_little_gold_the_choice_is_made_out_of_fold() -> None:
    # given 60 gold items, all in the valid split
    matrix, truth = _synthetic(n=2000)
    gold = np.full(len(truth), -1, dtype=np.int64)
    gold[:60] = truth[:60]
    valid = np.zeros(len(truth), bool)
    valid[:60] = True

    # when
    selection = aggregator_select(matrix=matrix, k=3, gold=gold, valid=valid, ids=np.arange(len(truth)))

    # then
    assert selection.selected_on == "cross_validation"
    assert selection.n_heldout == int((matrix[:60] != ABSTAIN).any(axis=1).sum())
    assert "supervised" not in selection.scores  # 4/5 of 60 is under MIN_SUPERVISED_GOLD


def test_a_simpler_aggregator_wins_within_one_held_out_items_worth(monkeypatch: pytest.MonkeyPatch) -> None:
    # given held-out scores where a complex candidate leads by less than one item in 100
    scores = {"majority_vote": 0.80, "weighted_majority_vote": 0.805, "supervised": 0.809}

    # when / then
    assert aggregators._choose(scores, 100) == "majority_vote"
    assert aggregators._choose({**scores, "supervised": 0.82}, 100) == "supervised"


def test_a_class_no_lf_votes_for_gets_only_the_prior() -> None:
    # given LFs that never vote for class 2, and gold in which class 2 is common
    matrix, truth = _synthetic(n=1000, k=3)
    matrix[matrix == 2] = ABSTAIN
    gold = np.where(np.arange(len(truth)) < 200, truth, -1)

    # when
    selection = aggregator_select(
        matrix=matrix, k=3, gold=gold, valid=np.zeros(len(truth), bool), ids=np.arange(len(truth))
    )

    # then majority vote gives class 2 to no covered item; uncovered items get the gold prior
    covered = selection.covered
    assert selection.probabilities["majority_vote"][covered, 2].max() == 0.0
    assert np.allclose(selection.probabilities["majority_vote"][~covered], class_prior(gold, 3))


def test_a_wide_label_matrix_leaves_snorkels_label_model_out_and_says_why() -> None:
    # given 100 LFs and 9 classes (900 columns for Snorkel's overlap matrix)
    rng = np.random.default_rng(1)
    matrix = np.where(rng.random((300, 100)) < 0.05, rng.integers(0, 9, (300, 100)), -1).astype(np.int8)

    # when
    selection = aggregator_select(
        matrix=matrix, k=9, gold=np.full(300, -1, np.int64), valid=np.zeros(300, bool), ids=np.arange(300)
    )

    # then
    assert "label_model" not in selection.probabilities
    assert "900 columns" in selection.skipped["label_model"]


def test_a_label_matrix_within_the_budget_gets_snorkels_label_model() -> None:
    # given 68 LFs and 6 classes (408 columns, a question-classification set's size)
    rng = np.random.default_rng(2)
    matrix = np.where(rng.random((300, 68)) < 0.05, rng.integers(0, 6, (300, 68)), -1).astype(np.int8)

    # when
    selection = aggregator_select(
        matrix=matrix, k=6, gold=np.full(300, -1, np.int64), valid=np.zeros(300, bool), ids=np.arange(300)
    )

    # then
    assert "label_model" not in selection.skipped
    assert selection.probabilities["label_model"].shape == (300, 6)


def test_gold_of_one_class_only_gives_every_candidate_something_to_say() -> None:
    # given 80 gold items that are all of class 0 (too few classes for a supervised fit)
    matrix, truth = _synthetic(n=400)
    gold = np.where(np.arange(len(truth)) < 80, 0, -1).astype(np.int64)

    # when
    selection = aggregator_select(
        matrix=matrix, k=3, gold=gold, valid=np.zeros(len(truth), bool), ids=np.arange(len(truth))
    )

    # then the choice is made, and the supervised aggregator falls back to the prior instead of failing
    assert selection.selected_on == "cross_validation"
    assert np.allclose(selection.probabilities["supervised"], class_prior(gold, 3))
