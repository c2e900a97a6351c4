"""Which feature set the classifier reads, chosen at each retrain from the labels collected so far.

A project's items may carry more than their text: metadata text fields (entities, titles) and, for relation
items, two marked spans whose in-between words say how the entities relate (features.choices). Whether those
help is the project's question, not a constant's: at each retrain every candidate set (simplest first: the
project's own setting, then the sets its items add) is cross-validated on the labeled items (FOLDS folds,
the project's classifier, macro F1 out of fold), and the simplest within one labeled item's worth of the best
is read (the tie rule of every choice made on held-out gold: weak_supervision.ties). With fewer than
MIN_LABELS labels, or a fold of one class, the first set is read: too little evidence to prefer another.

Only usable gold labels are given here (never the test split nor evaluation-only labels).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import f1_score

from features.classifiers import can_train, classifier_fit, probabilities_full
from features.vectors import Matrix
from weak_supervision.ties import simplest_within_tie

MIN_LABELS = 20
FOLDS = 3
# Labeled rows a comparison reads at most (a seeded draw): 3 folds x a few sets of fits stay seconds.
MAX_ROWS = 3000


@dataclass(frozen=True)
class FeatureChoice:
    """The set read, each candidate's out-of-fold macro F1 (empty: not compared), and on how many labels."""

    features: str
    scores: dict[str, float] = field(default_factory=dict)
    n_labels: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def feature_set_choose(
    candidates: Mapping[str, Matrix], y: npt.NDArray[np.int64], seed: int = 0
) -> FeatureChoice:
    """The feature set the classifier reads (see the module's docstring). `candidates` holds each set's
    features of the same labeled rows, simplest first."""
    order = list(candidates)
    if len(order) == 1 or len(y) < MIN_LABELS or not can_train(y):
        return FeatureChoice(order[0], n_labels=len(y))
    rng = np.random.default_rng(seed)
    rows = np.arange(len(y))
    if len(rows) > MAX_ROWS:
        rows = np.sort(rng.choice(rows, size=MAX_ROWS, replace=False))
    folds = np.array_split(rng.permutation(rows), FOLDS)
    if any(not can_train(y[np.setdiff1d(rows, fold)]) for fold in folds):
        return FeatureChoice(order[0], n_labels=len(rows))
    k = int(y.max()) + 1
    classes = np.unique(y[rows])
    scores: dict[str, float] = {}
    for name, x in candidates.items():
        predicted = np.zeros(len(y), dtype=np.int64)
        for fold in folds:
            train = np.setdiff1d(rows, fold)
            model = classifier_fit(x[train], y[train], seed=seed)
            predicted[fold] = probabilities_full(model, x[fold], k).argmax(axis=1)
        scores[name] = float(
            f1_score(y[rows], predicted[rows], labels=classes, average="macro", zero_division=0)
        )
    chosen = simplest_within_tie(scores, order, len(rows)) or order[0]
    return FeatureChoice(chosen, {name: round(value, 4) for name, value in scores.items()}, len(rows))
