"""Multi-label runs choose their aggregator on held-out usable gold, as single-label runs do."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from weak_supervision.services.multi_label import ABSTAIN, multi_label_select

N = 200


def _valid() -> npt.NDArray[np.bool_]:
    return np.arange(N) % 2 == 0  # every other item is in the valid split


def test_noisy_or_wins_where_one_lf_for_a_label_is_mostly_wrong() -> None:
    # given two LFs for label 0, one right 95% of the time on the first 80 items, one right 10% of the time
    # on the other 120; a third LF votes label 1 on the items that have it
    matrix = np.full((N, 3), ABSTAIN, dtype=np.int8)
    matrix[:80, 0] = 0
    matrix[80:, 1] = 0
    has_one = np.arange(N) % 3 == 0
    matrix[has_one, 2] = 1
    gold = np.zeros((N, 2), dtype=bool)
    gold[:80, 0] = np.arange(80) % 20 != 0
    gold[80:, 0] = np.arange(120) % 10 == 0
    gold[:, 1] = has_one

    # when
    chosen, entry, probabilities = multi_label_select(
        matrix=matrix, gold=gold, has_gold=np.ones(N, bool), valid=_valid(), ids=np.arange(1, N + 1)
    )

    # then noisy-OR (the bad LF's precision keeps its votes below 0.5) beats any vote on the valid half
    assert (chosen, entry["selected_on"]) == ("noisy_or", "valid")
    assert entry["scores"]["noisy_or"] > entry["scores"]["any_vote"] + 0.05
    assert entry["n_heldout"] == 100
    assert set(probabilities) == {"any_vote", "noisy_or", "supervised"}
    assert not (probabilities["noisy_or"][80:, 0] >= 0.5).any()


def test_the_supervised_aggregator_learns_what_a_vote_really_says() -> None:
    # given an LF that votes label 0 where the items have label 1 (and not label 0)
    matrix = np.full((N, 1), ABSTAIN, dtype=np.int8)
    fires = np.arange(N) % 8 < 2  # a quarter of the items, as many in the valid split as outside it
    matrix[fires, 0] = 0
    gold = np.zeros((N, 2), dtype=bool)
    gold[fires, 1] = True
    gold[~fires, 0] = True

    # when
    chosen, entry, probabilities = multi_label_select(
        matrix=matrix, gold=gold, has_gold=np.ones(N, bool), valid=_valid(), ids=np.arange(1, N + 1)
    )

    # then only the supervised aggregator reads the vote as "label 1, not label 0"
    assert chosen == "supervised"
    assert entry["scores"]["supervised"] == 1.0
    assert np.array_equal(
        probabilities["supervised"][fires] >= 0.5, np.tile([False, True], (int(fires.sum()), 1))
    )


def test_without_gold_the_default_is_noisy_or_and_it_answers_as_any_vote() -> None:
    # given votes and no usable gold
    rng = np.random.default_rng(0)
    matrix = rng.integers(-1, 3, size=(N, 4)).astype(np.int8)
    gold = np.zeros((N, 3), dtype=bool)

    # when
    chosen, entry, probabilities = multi_label_select(
        matrix=matrix, gold=gold, has_gold=np.zeros(N, bool), valid=_valid(), ids=np.arange(1, N + 1)
    )

    # then
    assert (chosen, entry["selected_on"], entry["scores"]) == ("noisy_or", "default", {})
    assert "supervised" in entry["skipped"]
    assert np.array_equal(probabilities["noisy_or"] >= 0.5, probabilities["any_vote"] >= 0.5)


def test_with_few_gold_items_the_choice_is_cross_validated() -> None:
    # given 40 gold items, none in a valid split, and a bad LF as in the first test
    matrix = np.full((N, 2), ABSTAIN, dtype=np.int8)
    matrix[:80, 0] = 0
    matrix[80:, 1] = 0
    gold = np.zeros((N, 1), dtype=bool)
    gold[:80, 0] = True
    has_gold = np.arange(N) % 5 == 0

    # when
    chosen, entry, _ = multi_label_select(
        matrix=matrix, gold=gold, has_gold=has_gold, valid=np.zeros(N, bool), ids=np.arange(1, N + 1)
    )

    # then
    assert (chosen, entry["selected_on"], entry["n_heldout"]) == ("noisy_or", "cross_validation", 40)
    assert "supervised" not in entry["scores"]
