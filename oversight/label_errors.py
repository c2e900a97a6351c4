"""Label errors: which given labels (gold, or the annotators' majority) are probably wrong, by confident
learning (Northcutt et al., cleanlab) over out-of-fold probabilities of a classifier trained on the labeled
items themselves.

- `out_of_fold_select`: stratified K-fold; each fold's items are scored by a logistic regression fitted
  on the other folds, so no item's probability comes from a model that saw its label. The regularisation is
  chosen per project from a small grid by the out-of-fold log loss (held-out evidence, no constant tuned to
  one data set), and so is the feature set where there are several (the text alone,
  or the text beside the labeling functions' votes, which know things about an item that its words alone
  may not show a linear model). The winner is fitted again on two more draws of the folds and the three
  out-of-fold probabilities averaged (repeated cross-validation).
- `label_issues_find`: cleanlab's `find_label_issues` with `filter_by="both"`: an item is flagged only when
  both of confident learning's pruning rules flag it (`prune_by_noise_rate`, which removes, per pair of
  given and true class, as many items as the estimated joint says are wrong there, the least confident first,
  and `prune_by_class`, which does so per given class). Flagged items go to people for review, so precision
  is worth more than the last few percent of recall (on youtube and sms, two classes, both rules flag the
  same items). Ranked by
  `self_confidence` (the model's probability of the given label, lowest first).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from cleanlab.filter import find_label_issues
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from features.classifiers import CompactLogisticRegression

FOLDS = 5
C_GRID = (0.1, 1.0, 10.0)
MIN_PER_CLASS = 2  # labeled items a class needs to take part (fewer cannot be split into folds)
SEED = 0
REPEATS = 3  # draws of the folds averaged for the chosen feature set and C

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


def _fit(x: Any, y: Ints, c: float) -> LogisticRegression:
    # Fitted on the hashed columns the fold's items use (features.classifiers): the same model, 4-5x faster;
    # with one BLAS thread, as every classifier of the platform is fitted (features.classifiers.classifier_fit):
    # L-BFGS on these sizes gains nothing from more, and a worker process shares its cores with others.
    model = CompactLogisticRegression(C=c, max_iter=1000)
    with threadpool_limits(limits=1):
        model.fit(x, y)
    return model


def _fold_probabilities(x: Any, y: Ints, k: int, folds: list[tuple[Ints, Ints]], c: float) -> Floats:
    out = np.zeros((len(y), k))
    for train, test in folds:
        if len(np.unique(y[train])) < 2:
            out[test] = np.bincount(y[train], minlength=k) / len(train)
            continue
        model = _fit(x[train], y[train], c)
        out[np.ix_(test, model.classes_)] = model.predict_proba(x[test])
    out = np.clip(out, 1e-6, None)
    return np.asarray(out / out.sum(axis=1, keepdims=True), dtype=np.float64)


@dataclass(frozen=True)
class OutOfFold:
    """The out-of-fold probabilities of the feature set and C with the lowest out-of-fold log loss."""

    probabilities: Floats
    features: str
    c: float
    folds: int
    log_loss: dict[str, float]  # per feature set, at its best C


def out_of_fold_select(candidates: dict[str, Any], y: Ints, k: int, *, folds: int = FOLDS) -> OutOfFold:
    """Out-of-fold probabilities for each candidate feature set (e.g. the text alone, and the text beside
    the labeling functions' votes) and each C of the grid, on the same folds; the pair with the lowest
    out-of-fold log loss wins (the first, the simplest, on a tie)."""
    y = np.asarray(y, dtype=np.int64)
    counts = np.bincount(y, minlength=k)
    n_folds = max(2, min(folds, int(counts[counts > 0].min())))
    best: tuple[float, Floats, str, float] | None = None
    losses: dict[str, float] = {}
    matrices = {name: sparse.csr_matrix(x) if sparse.issparse(x) else x for name, x in candidates.items()}
    splits = _splits(y, n_folds, SEED)
    for name, x in matrices.items():
        for c in C_GRID:
            probabilities = _fold_probabilities(x, y, k, splits, c)
            loss = float(log_loss(y, probabilities, labels=list(range(k))))
            losses[name] = min(losses.get(name, np.inf), round(loss, 5))
            if best is None or loss < best[0] - 1e-9:
                best = (loss, probabilities, name, c)
    assert best is not None
    _, probabilities, chosen, c = best
    # The winner again on other draws of the folds, averaged: an item's probability no longer hangs on which
    # other items shared its fold (repeated cross-validation), for REPEATS times the cost of one fit.
    draws = [probabilities] + [
        _fold_probabilities(matrices[chosen], y, k, _splits(y, n_folds, SEED + repeat), c)
        for repeat in range(1, REPEATS)
    ]
    return OutOfFold(np.mean(draws, axis=0), chosen, c, n_folds, losses)


def _splits(y: Ints, n_folds: int, seed: int) -> list[tuple[Ints, Ints]]:
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return [
        (np.asarray(train, dtype=np.int64), np.asarray(test, dtype=np.int64))
        for train, test in splitter.split(np.zeros(len(y)), y)
    ]


def label_issues_find(y: Ints, probabilities: Floats) -> Ints:
    """Rows whose given label is probably wrong, the most likely first."""
    y = np.asarray(y, dtype=np.int64)
    if len(y) == 0 or len(np.unique(y)) < 2:
        return np.zeros(0, dtype=np.int64)
    # cleanlab wants every class to appear among the given labels: drop the columns of classes nobody gave.
    present = np.unique(y)
    remap = np.full(probabilities.shape[1], -1, dtype=np.int64)
    remap[present] = np.arange(len(present))
    columns = probabilities[:, present]
    columns = columns / columns.sum(axis=1, keepdims=True)
    # n_jobs=1: by default cleanlab forks a multiprocessing pool (one process per core) from this process,
    # which on a worker holds other threads (Celery's, BLAS and torch pools); a fork taken while one of them
    # holds a lock can leave the child waiting on it for ever (the scan that stalled on the test suite's
    # worker). The results are the same for any n_jobs, and one process is faster here anyway: 0.17 s for
    # 100,000 items and 5 classes, against 0.22 s with the pool.
    found = find_label_issues(
        labels=remap[y], pred_probs=columns, filter_by="both",
        return_indices_ranked_by="self_confidence", n_jobs=1,
    )  # fmt: skip
    return np.asarray(found, dtype=np.int64)
