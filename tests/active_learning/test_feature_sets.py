from __future__ import annotations

import numpy as np
from scipy import sparse

from active_learning.feature_sets import MIN_LABELS, feature_set_choose


def _noise(n: int, seed: int) -> sparse.csr_matrix:
    rng = np.random.default_rng(seed)
    return sparse.csr_matrix(rng.normal(size=(n, 8)).astype(np.float32))


def _telling(y: np.ndarray) -> sparse.csr_matrix:
    """Features that tell the classes apart: a one-hot of the class beside noise."""
    return sparse.hstack([_noise(len(y), 1), sparse.csr_matrix(np.eye(3, dtype=np.float32)[y])], format="csr")


def test_the_set_that_tells_the_classes_apart_out_of_fold_is_chosen() -> None:
    # given 60 labels of three classes, a first set of noise and a second set that tells them apart
    y = np.arange(60, dtype=np.int64) % 3

    # when
    choice = feature_set_choose({"hybrid": _noise(60, 0), "hybrid+context": _telling(y)}, y)

    # then
    assert choice.features == "hybrid+context"
    assert choice.scores["hybrid+context"] == 1.0
    assert choice.scores["hybrid"] < 0.6
    assert choice.n_labels == 60


def test_a_tie_goes_to_the_simpler_set() -> None:
    # given two sets that both tell the classes apart
    y = np.arange(60, dtype=np.int64) % 3

    # when
    choice = feature_set_choose({"hybrid": _telling(y), "hybrid+fields": _telling(y)}, y)

    # then the first (simplest) one is read
    assert choice.features == "hybrid"
    assert choice.scores == {"hybrid": 1.0, "hybrid+fields": 1.0}


def test_too_few_labels_or_one_set_read_the_first_without_comparing() -> None:
    # given fewer labels than a comparison needs
    y = np.arange(MIN_LABELS - 1, dtype=np.int64) % 3

    # when
    few = feature_set_choose({"hybrid": _noise(len(y), 0), "hybrid+context": _telling(y)}, y)
    alone = feature_set_choose({"hybrid": _noise(60, 0)}, np.arange(60, dtype=np.int64) % 3)
    one_class = feature_set_choose(
        {"hybrid": _noise(60, 0), "hybrid+context": _noise(60, 2)}, np.zeros(60, dtype=np.int64)
    )

    # then
    assert (few.features, few.scores) == ("hybrid", {})
    assert (alone.features, alone.scores) == ("hybrid", {})
    assert (one_class.features, one_class.scores) == ("hybrid", {})
