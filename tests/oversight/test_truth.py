"""The truth-inference engine (oversight.truth) on answers drawn from known confusion matrices."""

from __future__ import annotations

import numpy as np
import pytest

from oversight.truth import MIN_SELECT_GOLD, Answers, infer, source_reliability, variant_select


def _crowd(
    accuracies: list[float], n: int = 600, k: int = 3, per_item: int = 3, seed: int = 0
) -> tuple[Answers, np.ndarray]:
    """n items, each answered by `per_item` of the sources; source s is right with accuracies[s], else
    answers uniformly among the other classes."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n)
    items, sources, answers = [], [], []
    for i in range(n):
        for s in rng.choice(len(accuracies), per_item, replace=False):
            right = rng.random() < accuracies[s]
            answer = truth[i] if right else (truth[i] + rng.integers(1, k)) % k
            items.append(i)
            sources.append(int(s))
            answers.append(int(answer))
    return Answers.of(items, sources, answers, n_items=n, n_sources=len(accuracies), k=k), truth


def test_dawid_skene_beats_majority_vote_and_ranks_the_sources() -> None:
    # given three good annotators, a mediocre one and two spammers
    answers, truth = _crowd([0.9, 0.88, 0.92, 0.7, 1 / 3, 1 / 3])
    # when
    mv = infer(answers, variant="majority_vote")
    ds = infer(answers)
    # then
    assert (ds.labels() == truth).mean() > (mv.labels() == truth).mean() + 0.03
    estimated = [r.accuracy for r in source_reliability(answers, ds)]
    assert np.argsort(estimated)[:2].tolist() in ([4, 5], [5, 4])
    assert estimated[3] < min(estimated[:3])
    assert ds.converged


def test_the_same_answers_give_the_same_posteriors() -> None:
    # given
    answers, _ = _crowd([0.9, 0.8, 0.6, 0.5])
    # when
    first, second = infer(answers), infer(answers)
    # then
    assert np.array_equal(first.posteriors, second.posteriors)


def test_fixed_items_keep_their_class_and_unanswered_items_get_the_prior() -> None:
    # given item 0 fixed to class 2 against its answers, and item 3 answered by nobody
    answers = Answers.of([0, 0, 1, 2], [0, 1, 0, 1], [1, 1, 0, 2], n_items=4, n_sources=2, k=3)
    # when
    fitted = infer(answers, fixed_rows=np.array([0]), fixed_classes=np.array([2]))
    # then
    assert fitted.posteriors[0].tolist() == [0.0, 0.0, 1.0]
    assert np.allclose(fitted.posteriors[3], fitted.prior)
    assert np.allclose(fitted.posteriors.sum(axis=1), 1.0)


def test_a_one_sided_labeling_function_informs_through_its_silence() -> None:
    # given three noisy annotators, and an LF that fires on most items of class 1 and few of class 0
    rng = np.random.default_rng(1)
    n = 2000
    truth = rng.integers(0, 2, n)
    items, sources, answers = [], [], []
    for i in range(n):
        for s in range(3):
            items.append(i)
            sources.append(s)
            answers.append(int(truth[i]) if rng.random() < 0.7 else 1 - int(truth[i]))
        if rng.random() < (0.8 if truth[i] == 1 else 0.05):
            items.append(i)
            sources.append(3)
            answers.append(1)
    silent = Answers.of(
        items, sources, answers, n_items=n, n_sources=4, k=2, silent_answers=[False] * 3 + [True]
    )
    not_silent = Answers.of(items, sources, answers, n_items=n, n_sources=4, k=2)
    # when
    with_silence = (infer(silent).labels() == truth).mean()
    without = (infer(not_silent).labels() == truth).mean()
    # then: modelled silence makes the LF's abstains evidence for class 0
    assert with_silence > without + 0.05


def test_a_source_with_few_answers_gets_one_coin() -> None:
    # given source 3 answers two items only
    answers, _ = _crowd([0.9, 0.9, 0.9], n=300)
    sparse_answers = Answers.of(
        np.r_[answers.item, [0, 1]], np.r_[answers.source, [3, 3]], np.r_[answers.answer, [0, 0]],
        n_items=300, n_sources=4, k=3,
    )  # fmt: skip
    # when
    fitted = infer(sparse_answers)
    # then
    assert fitted.one_coin.tolist() == [False, False, False, True]
    row = fitted.confusion[3, :, :3]
    assert np.allclose(row.sum(axis=1), 1.0)
    assert row[0, 1] == pytest.approx(row[0, 2])


def test_variant_select_needs_enough_gold_and_otherwise_uses_held_out_gold() -> None:
    # given
    answers, truth = _crowd([0.9, 0.85, 0.6, 0.4], n=400)
    rows = np.arange(MIN_SELECT_GOLD - 1)
    # when
    few = variant_select(answers, fixed_rows=rows, fixed_classes=truth[rows])
    rows = np.arange(120)
    enough = variant_select(answers, fixed_rows=rows, fixed_classes=truth[rows])
    # then
    assert (few.method, few.variant) == ("default", "dawid_skene")
    assert enough.method == "held_out_gold"
    assert enough.n_heldout == 120
    assert set(enough.scores) == {"majority_vote", "one_coin", "dawid_skene"}
    assert enough.scores[enough.variant] >= max(enough.scores.values()) - 1 / 120


def test_source_reliability_intervals_hold_the_estimate() -> None:
    # given
    answers, _ = _crowd([0.9, 0.8, 0.7])
    # when
    reliability = source_reliability(answers, infer(answers))
    # then
    for estimate in reliability:
        assert estimate.accuracy is not None
        assert estimate.accuracy_interval is not None
        low, high = estimate.accuracy_interval
        assert low < estimate.accuracy < high
        assert len(estimate.class_accuracy) == 3
        assert np.allclose(np.sum(estimate.confusion, axis=1), 1.0)
