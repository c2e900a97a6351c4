from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pytest
from modAL.uncertainty import classifier_entropy, classifier_margin, classifier_uncertainty
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from active_learning.choices import Strategy
from active_learning.strategies import (
    COMMITTEE_SIZE,
    DIVERSE_CANDIDATES_PER_ITEM,
    batch_select,
    cluster_select,
    distance_space,
    diverse_select,
    learner_fit,
    scores_compute,
)
from features.classifiers import CompactLogisticRegression, classifier_new, hash_uniform
from features.vectors import N_FEATURES, document_frequency, idf_weights, term_counts, tfidf
from tests.active_learning.factories import corpus, corpus_text

Matrix: TypeAlias = sparse.csr_matrix
THREE = ("ham", "spam", "sport")


def _tfidf(texts: list[str], *more: list[str]) -> list[Matrix]:
    """TF-IDF of each list of texts, with document frequencies over all of them."""
    counts = term_counts([text for part in (texts, *more) for text in part])
    weighted = tfidf(counts, idf_weights(document_frequency(counts), counts.shape[0]))
    bounds = np.cumsum([0, len(texts), *(len(part) for part in more)])
    return [weighted[start:end] for start, end in itertools.pairwise(bounds)]


@pytest.mark.parametrize("labels", [("ham", "spam"), THREE])
def test_compact_logistic_regression_predicts_like_plain_logistic_regression(labels: tuple[str, ...]) -> None:
    # given
    texts, y = corpus(30, labels)
    unseen = [f"{corpus_text(labels[0], 90)} {corpus_text(labels[1], 91)}", "words nobody used", *texts[:5]]
    x, x_new = _tfidf(texts, unseen)
    weights = np.linspace(0.5, 1.5, len(y))

    # when
    compact = classifier_new().fit(x, y, sample_weight=weights)

    # then
    plain = LogisticRegression(**classifier_new().get_params()).fit(x, y, sample_weight=weights)
    assert isinstance(compact, CompactLogisticRegression)
    assert (compact.C, compact.class_weight) == (3.0, "balanced")
    assert compact.coef_.shape == plain.coef_.shape == ((1 if len(labels) == 2 else 3), N_FEATURES)
    assert compact.n_features_in_ == N_FEATURES
    assert np.abs(compact.predict_proba(x_new) - plain.predict_proba(x_new)).max() < 1e-4
    assert np.abs(compact.predict_proba(x) - plain.predict_proba(x)).max() < 1e-4
    unused = np.setdiff1d(np.arange(N_FEATURES), np.unique(x.indices))
    assert not compact.coef_[:, unused].any()


def test_compact_logistic_regression_fits_dense_features_as_they_are() -> None:
    x = np.asarray([[0.0, 1.0], [0.1, 0.9], [1.0, 0.0], [0.9, 0.2]])
    y = np.asarray([0, 0, 1, 1])

    compact = classifier_new().fit(x, y)

    plain = LogisticRegression(**classifier_new().get_params()).fit(x, y)
    assert np.allclose(compact.coef_, plain.coef_)
    assert np.allclose(compact.predict_proba(x), plain.predict_proba(x))


def _uncertainty(model: Any, x: Matrix) -> npt.NDArray[np.float64]:
    return np.asarray(classifier_uncertainty(model, x))


def _one_minus_margin(model: Any, x: Matrix) -> npt.NDArray[np.float64]:
    return 1.0 - np.asarray(classifier_margin(model, x))


def _entropy(model: Any, x: Matrix) -> npt.NDArray[np.float64]:
    return np.asarray(classifier_entropy(model, x))


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        (Strategy.UNCERTAINTY, _uncertainty),
        (Strategy.UNCERTAINTY_DIVERSE, _uncertainty),
        (Strategy.MARGIN, _one_minus_margin),
        (Strategy.MARGIN_DIVERSE, _one_minus_margin),
        (Strategy.ENTROPY, _entropy),
    ],
)
def test_uncertainty_scores_are_modals(strategy: str, expected: Callable[[Any, Matrix], Any]) -> None:
    # given a three-class model and a pool
    texts, y = corpus(30, THREE)
    pool = [corpus_text(THREE[index % 3], 200 + index) + " prize" for index in range(12)]
    x, x_pool = _tfidf(texts, pool)
    learner = learner_fit(strategy, x, y)
    ids = np.arange(1, 13, dtype=np.int64)

    # when
    scores = scores_compute(strategy, learner, x_pool, ids)

    # then
    assert scores.dtype == np.float64
    assert scores.shape == (12,)
    assert np.allclose(scores, expected(learner.model, x_pool))


def test_margin_and_uncertainty_scores_by_hand() -> None:
    # given
    texts, y = corpus(30, THREE)
    x, x_pool = _tfidf(texts, ["prize football meeting", "cash bonus lottery"])
    learner = learner_fit(Strategy.MARGIN, x, y)
    proba = np.sort(learner.model.predict_proba(x_pool), axis=1)

    # when
    margin = scores_compute(Strategy.MARGIN, learner, x_pool, np.asarray([1, 2]))
    uncertainty = scores_compute(Strategy.UNCERTAINTY, learner, x_pool, np.asarray([1, 2]))

    # then
    assert np.allclose(margin, 1.0 - (proba[:, 2] - proba[:, 1]))
    assert np.allclose(uncertainty, 1.0 - proba[:, 2])
    assert margin[0] > margin[1]  # the mixed text is the one the model doubts


def test_weak_scores_mix_margin_and_label_model_doubt() -> None:
    texts, y = corpus(20)
    x, x_pool = _tfidf(texts, ["prize meeting", "cash bonus"])
    learner = learner_fit(Strategy.WEAK, x, y)
    doubt = np.asarray([0.2, 0.8])

    scores = scores_compute(Strategy.WEAK, learner, x_pool, np.asarray([1, 2]), weak_doubt=doubt)

    margin = scores_compute(Strategy.MARGIN, learner, x_pool, np.asarray([1, 2]))
    assert np.allclose(scores, 0.5 * margin + 0.5 * doubt)


def test_random_scores_depend_only_on_the_seed_and_the_item() -> None:
    # given
    texts, y = corpus(20)
    x, x_pool = _tfidf(texts, [corpus_text("spam", 100 + index) for index in range(8)])
    learner = learner_fit(Strategy.RANDOM, x, y)
    ids = np.asarray([5, 17, 3, 99, 1000, 2**40, 42, 8], dtype=np.int64)

    # when
    scores = scores_compute(Strategy.RANDOM, learner, x_pool, ids, seed="model:3")
    shuffled = scores_compute(Strategy.RANDOM, learner, x_pool[::-1], ids[::-1], seed="model:3")
    without_model = scores_compute(Strategy.MARGIN, None, x_pool, ids, seed="model:3")
    other_seed = scores_compute(Strategy.RANDOM, learner, x_pool, ids, seed="model:4")

    # then
    assert scores.tolist() == shuffled[::-1].tolist()
    assert scores.tolist() == without_model.tolist()
    assert scores.tolist() == hash_uniform(ids, "model:3").tolist()
    assert len(set(scores.tolist())) == 8
    assert not np.any(scores == other_seed)
    assert ((scores >= 0) & (scores < 1)).all()


def test_hash_uniform_draws_are_spread_evenly() -> None:
    draws = hash_uniform(np.arange(1, 20_001, dtype=np.int64), 7)

    histogram, _ = np.histogram(draws, bins=10, range=(0.0, 1.0))

    assert ((draws >= 0) & (draws < 1)).all()
    assert histogram.min() > 1800
    assert histogram.max() < 2200


DUPLICATE = "prize meeting"


def _near_duplicate_pool() -> tuple[Matrix, Matrix, npt.NDArray[np.int64], list[str]]:
    """A model trained on 20 texts, and a pool of 70: 30 copies of one text that mixes the classes' words
    (the pool's most doubtful item) among 40 texts of one class or the other."""
    texts, y = corpus(20)
    pool = [DUPLICATE] * 30 + [corpus_text(("ham", "spam")[index % 2], 100 + index) for index in range(40)]
    x, x_pool = _tfidf(texts, pool)
    return x, x_pool, y, pool


def test_plain_top_margin_fills_a_batch_with_near_duplicates() -> None:
    # given
    x, x_pool, y, pool = _near_duplicate_pool()
    learner = learner_fit(Strategy.MARGIN, x, y)
    scores = scores_compute(Strategy.MARGIN, learner, x_pool, np.arange(70, dtype=np.int64))

    # when
    rows = batch_select(Strategy.MARGIN, scores, x_pool, 10, x)

    # then the batch is the ten best scores, best first: all copies of the same text
    assert rows.tolist() == np.argsort(-scores, kind="stable")[:10].tolist()
    assert [pool[row] for row in rows] == [DUPLICATE] * 10


@pytest.mark.parametrize("strategy", [Strategy.MARGIN_DIVERSE, Strategy.UNCERTAINTY_DIVERSE])
def test_a_diverse_batch_holds_at_most_one_copy_of_a_text(strategy: str) -> None:
    # given
    x, x_pool, y, pool = _near_duplicate_pool()
    learner = learner_fit(strategy, x, y)
    scores = scores_compute(strategy, learner, x_pool, np.arange(70, dtype=np.int64))

    # when
    rows = batch_select(strategy, scores, x_pool, 10, x)

    # then
    assert len(rows) == 10
    assert len(set(rows.tolist())) == 10
    assert sum(pool[row] == DUPLICATE for row in rows) <= 1
    assert len({pool[row] for row in rows}) == 10


def test_a_diverse_batch_is_n_distinct_rows_among_the_best_candidates() -> None:
    # given
    texts, y = corpus(20)
    x, x_pool = _tfidf(texts, [corpus_text(("ham", "spam")[index % 2], 100 + index) for index in range(60)])
    learner = learner_fit(Strategy.MARGIN_DIVERSE, x, y)
    scores = scores_compute(Strategy.MARGIN_DIVERSE, learner, x_pool, np.arange(60, dtype=np.int64))

    # when
    rows = batch_select(Strategy.MARGIN_DIVERSE, scores, x_pool, 5, x)

    # then (four candidates per item of the batch)
    assert len(set(rows.tolist())) == 5
    assert set(rows.tolist()) <= set(np.argsort(-scores, kind="stable")[:20].tolist())


@pytest.mark.parametrize(("n", "expected"), [(0, 0), (-3, 0), (5, 5), (500, 60)])
def test_batch_select_returns_at_most_the_pool(n: int, expected: int) -> None:
    texts, _ = corpus(20)
    x, x_pool = _tfidf(texts, [corpus_text("ham", 100 + index) for index in range(60)])
    scores = hash_uniform(np.arange(60, dtype=np.int64), 1)

    rows = batch_select(Strategy.MARGIN_DIVERSE, scores, x_pool, n, x)

    assert len(rows) == expected
    assert len(set(rows.tolist())) == expected


def test_a_batch_without_labeled_items_is_the_top_scores() -> None:
    scores = np.asarray([0.1, 0.9, 0.5, 0.7, 0.3])
    x = sparse.csr_matrix(np.eye(5))

    rows = batch_select(Strategy.MARGIN_DIVERSE, scores, x, 3, None)

    assert rows.tolist() == [1, 3, 2]


def test_diverse_select_returns_n_distinct_rows() -> None:
    # given
    _, _, _, pool = _near_duplicate_pool()
    x_pool = _tfidf(pool)[0]

    # when
    rows = diverse_select(x_pool, 10, seed=3)

    # then
    assert rows.dtype == np.int64
    assert len(rows) == 10
    assert len(set(rows.tolist())) == 10
    assert ((rows >= 0) & (rows < 70)).all()
    assert rows.tolist() == diverse_select(x_pool, 10, seed=3).tolist()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_diverse_select_fills_up_when_the_pool_has_fewer_distinct_texts_than_wanted() -> None:
    # given twelve rows with only three different texts
    x_pool = _tfidf(["prize cash"] * 4 + ["lunch garden"] * 4 + ["football goal"] * 4)[0]

    # when
    rows = diverse_select(x_pool, 5, seed=0)

    # then every text is among the picks, and no row twice
    assert len(set(rows.tolist())) == 5
    assert {int(row) // 4 for row in rows} == {0, 1, 2}


@pytest.mark.parametrize(("n", "expected"), [(0, 0), (3, 3), (50, 12)])
def test_diverse_select_returns_at_most_the_pool(n: int, expected: int) -> None:
    x_pool = _tfidf([corpus_text("ham", index) for index in range(12)])[0]

    rows = diverse_select(x_pool, n)

    assert sorted(rows.tolist()) == sorted(set(rows.tolist()))
    assert len(rows) == expected


def test_a_committee_learner_works_with_three_classes() -> None:
    # given a sport class with a single item
    texts, y = corpus(30, THREE)
    keep = (y != 2) | (np.arange(30) == 2)
    texts, y = [text for text, kept in zip(texts, keep, strict=True) if kept], y[keep]
    pool = ["prize football meeting", "football goal league", "cash bonus claim", "lunch garden dinner"]
    x, x_pool = _tfidf(texts, pool)

    # when
    learner = learner_fit(Strategy.COMMITTEE, x, y, seed=1)
    scores = scores_compute(Strategy.COMMITTEE, learner, x_pool, np.arange(4, dtype=np.int64))

    # then every member knows the three classes
    assert learner.committee is not None
    assert len(learner.committee.learner_list) == COMMITTEE_SIZE
    for member in learner.committee.learner_list:
        assert member.estimator.classes_.tolist() == [0, 1, 2]
    assert learner.model.predict_proba(x_pool).shape == (4, 3)
    assert scores.shape == (4,)
    assert ((scores >= 0) & (scores <= np.log(3) * 1.001)).all()
    votes = np.asarray([member.predict(x_pool) for member in learner.committee.learner_list])
    unanimous = (votes == votes[0]).all(axis=0)
    # unanimous items have no vote entropy: only the tie-break term, below every split vote's score
    assert (scores[unanimous] < 1e-3 * np.log(3) + 1e-12).all()
    if (~unanimous).any():
        assert scores[~unanimous].min() > scores[unanimous].max(initial=0.0)


def test_a_committee_is_the_same_for_the_same_seed() -> None:
    texts, y = corpus(24, THREE)
    x, x_pool = _tfidf(texts, ["prize football meeting", "cash goal"])

    first = scores_compute(Strategy.COMMITTEE, learner_fit(Strategy.COMMITTEE, x, y, seed=2), x_pool,
                           np.arange(2, dtype=np.int64))  # fmt: skip
    again = scores_compute(Strategy.COMMITTEE, learner_fit(Strategy.COMMITTEE, x, y, seed=2), x_pool,
                           np.arange(2, dtype=np.int64))  # fmt: skip

    assert first.tolist() == again.tolist()


def test_distances_of_hybrid_features_are_measured_on_their_embedding_part() -> None:
    # given TF-IDF beside two dense columns
    words = _tfidf(["cash prize", "garden lunch"])[0]
    dense = np.asarray([[0.6, 0.8], [1.0, 0.0]], dtype=np.float32)
    hybrid = sparse.hstack([words, sparse.csr_matrix(dense)], format="csr")

    # and the same with a hashed context block after the dense columns (hybrid+fields+context)
    with_context = sparse.hstack([hybrid, words], format="csr")

    # when / then the hashed parts are left out (a dense copy of a context block would take GBs)
    assert np.array_equal(distance_space(hybrid), dense)
    assert np.array_equal(distance_space(with_context), dense)
    assert distance_space(words) is words
    assert distance_space(dense) is dense


def test_a_cluster_batch_is_n_distinct_rows_among_the_best_candidates_best_first() -> None:
    # given 200 rows in four tight groups taking turns, scored best first
    rng = np.random.default_rng(0)
    centres = np.asarray([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    x = centres[np.arange(200) % 4] + rng.normal(scale=0.1, size=(200, 2))
    scores = 1.0 - np.arange(200) / 200

    # when
    batch = cluster_select(scores, x, 4, seed=0)

    # then one row of each group, among the best candidates
    assert len(set(batch.tolist())) == 4
    assert batch.max() < 4 * DIVERSE_CANDIDATES_PER_ITEM
    assert sorted((batch % 4).tolist()) == [0, 1, 2, 3]
    assert scores[batch].tolist() == sorted(scores[batch].tolist(), reverse=True)


def test_the_adaptive_strategy_ranks_by_margin() -> None:
    texts, y = corpus(30)
    x, pool = _tfidf(texts, [corpus_text("ham", 40), "cash garden"])
    learner = learner_fit(Strategy.ADAPTIVE, x, y)

    scores = scores_compute(Strategy.ADAPTIVE, learner, pool, np.asarray([1, 2]))

    assert np.allclose(scores, _one_minus_margin(learner.model, pool))
