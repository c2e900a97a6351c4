from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from features.vectors import Matrix

Scores = npt.NDArray[np.float64]


class CompactLogisticRegression(LogisticRegression):
    """Logistic regression fitted only on the hashed columns its training items use.

    With L2 regularisation a column that is zero in every training row keeps a zero weight, so fitting on the
    used columns and widening the weights afterwards gives the same model; with 262,144 hashed columns and a
    few hundred labels it is many times faster.
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> CompactLogisticRegression:
        if not sparse.issparse(X):
            super().fit(X, y, sample_weight=sample_weight)
            return self
        width = X.shape[1]
        columns = np.unique(X.indices)
        super().fit(X[:, columns], y, sample_weight=sample_weight)
        fitted: npt.NDArray[np.float64] = getattr(self, "coef_")  # noqa: B009  (set by fit; untyped in sklearn)
        coef = np.zeros((fitted.shape[0], width), dtype=fitted.dtype)
        coef[:, columns] = fitted
        self.coef_ = coef
        self.n_features_in_ = width
        return self


def classifier_new(seed: int = 0) -> LogisticRegression:
    """The project's classifier: logistic regression, classes weighted so a rare class is not drowned out."""
    return CompactLogisticRegression(C=3.0, class_weight="balanced", max_iter=1000, random_state=seed)


def classifier_fit(
    x: Matrix, y: npt.NDArray[np.int64], weights: npt.NDArray[np.float64] | None = None, seed: int = 0
) -> LogisticRegression:
    model = classifier_new(seed)
    with threadpool_limits(limits=1):  # L-BFGS on small sets is many times slower with BLAS threads
        model.fit(x, y, sample_weight=weights)
    return model


def can_train(y: npt.NDArray[np.int64]) -> bool:
    """A classifier needs two classes; until then every strategy samples diversely."""
    return len(np.unique(y)) >= 2


def hash_uniform(ids: npt.NDArray[np.int64], seed: int | str) -> Scores:
    """A uniform draw per item that depends only on the seed and the item: the same on every worker."""
    key = hashlib.sha256(str(seed).encode()).digest()
    salt = np.uint64(int.from_bytes(key[:8], "big"))
    mixed = ids.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) ^ salt
    mixed ^= mixed >> np.uint64(31)
    mixed *= np.uint64(0xBF58476D1CE4E5B9)
    mixed ^= mixed >> np.uint64(29)
    return (mixed >> np.uint64(11)).astype(np.float64) / float(2**53)


def stack(parts: Sequence[Matrix]) -> Matrix:
    if parts and isinstance(parts[0], np.ndarray):
        return np.vstack(parts)
    return sparse.vstack(parts, format="csr")


def probabilities_full(model: Any, x: Matrix, k: int) -> npt.NDArray[np.float64]:
    """predict_proba with one column per project class, zero for classes the model never saw."""
    proba = np.zeros((x.shape[0], k), dtype=np.float64)
    proba[:, np.asarray(model.classes_, dtype=np.int64)] = model.predict_proba(x)
    return proba
