"""Held-out metrics of a classifier, and the simulator's replay of the active-learning loop."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from sklearn.metrics import accuracy_score, f1_score

from active_learning.audit import (
    AUDIT_STRATUM,
    Evidence,
    audit_draw,
    batch_compose,
    batch_sizes,
    evidence_compute,
)
from active_learning.choices import Strategy
from active_learning.feature_sets import feature_set_choose
from active_learning.strategies import (
    Learner,
    batch_select,
    cluster_select,
    diverse_select,
    learner_fit,
    scores_compute,
)
from features.classifiers import Scores, can_train, hash_uniform, probabilities_full
from features.vectors import Matrix


class Pool(NamedTuple):
    """The items a simulated analyst may be asked about: features, true label indices, item ids; and, where
    the items call for other feature sets (active_learning.feature_sets), each one's features of the same
    rows, simplest first (`x` is the first set's, the project's setting)."""

    x: Matrix
    y: npt.NDArray[np.int64]
    ids: npt.NDArray[np.int64]
    alternatives: Mapping[str, Matrix] = MappingProxyType({})


class HeldOut(NamedTuple):
    """The held-out items every curve point is scored on (with the pool's other feature sets, where it has)."""

    x: Matrix
    y: npt.NDArray[np.int64]
    alternatives: Mapping[str, Matrix] = MappingProxyType({})


BASE_FEATURES = "base"  # the pool's own set, among the candidates of a feature-set choice


METRICS = ("accuracy", "macro_f1")
ERROR_METRIC = (
    "Unknown metric '{metric}': use accuracy, macro_f1 or f1:LABEL (a label of the project: {labels})."
)


def metrics_compute(
    y_true: npt.NDArray[np.int64], proba: npt.NDArray[np.float64], labels: Sequence[str]
) -> dict[str, Any]:
    """Accuracy, macro F1 (over the project's classes), per-class F1 and the Brier score (the mean squared
    distance between the probabilities and the one-hot truth, summed over classes)."""
    if not len(y_true):
        return {"n_heldout": 0}
    predicted = proba.argmax(axis=1)
    classes = list(range(len(labels)))
    per_class = f1_score(y_true, predicted, labels=classes, average=None, zero_division=0)
    truth = np.zeros_like(proba)
    truth[np.arange(len(y_true)), y_true] = 1.0
    return {
        "n_heldout": len(y_true),
        "accuracy": round(float(accuracy_score(y_true, predicted)), 4),
        "macro_f1": round(float(np.mean(per_class)), 4),
        "f1": {label: round(float(value), 4) for label, value in zip(labels, per_class, strict=True)},
        "brier": round(float(np.mean(np.sum((proba - truth) ** 2, axis=1))), 4),
    }


def metric_validate(metric: str, labels: Sequence[str]) -> str:
    """The metric, its label (f1:LABEL) found by the one key rule (projects.services.label_keys)."""
    if metric in METRICS:
        return metric
    # Here, not at the top: the simulator's module is read without Django's settings (bench/al_quality.py).
    from projects.services.label_keys import LabelKeys

    key = LabelKeys(labels).find(metric[3:]) if metric.startswith("f1:") else None
    if key is not None:
        return f"f1:{key}"
    raise ValueError(ERROR_METRIC.format(metric=metric, labels=", ".join(labels)))


def metric_value(metric: str, metrics: dict[str, Any]) -> float:
    if metric.startswith("f1:"):
        return float(metrics["f1"][metric[3:]])
    return float(metrics[metric])


# --- the simulator ------------------------------------------------------------------------------------------
def _first_batch(
    strategy: str, x: Matrix, ids: npt.NDArray[np.int64], n: int, seed: int
) -> npt.NDArray[np.int64]:
    if strategy == Strategy.RANDOM:
        return np.argsort(-hash_uniform(ids, f"sim:{seed}"), kind="stable")[:n].astype(np.int64)
    return diverse_select(x, n, seed)


def _adaptive_batch(
    learner: Learner | None, pool: Pool, labeled: npt.NDArray[np.int64], n: int, seed: int
) -> npt.NDArray[np.int64]:
    """The adaptive strategy's next rows (active_learning.audit): the audit draw's next open items and the
    chosen ones, in the shares the evidence of the labeled rows sets."""
    draw = audit_draw(pool.ids, f"sim:{seed}")
    stratum = draw < AUDIT_STRATUM
    evidence = Evidence()
    if learner is not None:
        evidence = evidence_compute(pool.x[labeled], pool.y[labeled], stratum[labeled], seed + len(labeled))
    rest = np.setdiff1d(np.arange(len(pool.y)), labeled)
    audit = rest[stratum[rest]]
    audit = audit[np.argsort(draw[audit], kind="stable")]
    others = rest[~stratum[rest]]
    n_audit, n_chosen = batch_sizes(n, evidence.exploit_share, len(audit), len(others))
    if learner is None:
        chosen = others[diverse_select(pool.x[others], n_chosen, seed)]
    else:
        scores = scores_compute(Strategy.ADAPTIVE, learner, pool.x[others], pool.ids[others])
        chosen = others[cluster_select(scores, pool.x[others], n_chosen, seed)]
    return batch_compose(chosen, audit[:n_audit])


def curve_mean(runs: list[list[tuple[int, float]]], full: float) -> dict[str, Any]:
    """Seeds' learning curves averaged point by point (as far as the shortest goes), and the labels at which
    the mean first reaches 95% of the full-data model's score (None: never)."""
    length = min(len(run) for run in runs)
    curve = [
        [runs[0][point][0], round(float(np.mean([run[point][1] for run in runs])), 4)]
        for point in range(length)
    ]
    reached = next((n for n, value in curve if value >= 0.95 * full), None)
    return {"curve": curve, "labels_to_95": reached}


def _features_chosen(
    pool: Pool, test: HeldOut, labeled: npt.NDArray[np.int64], seed: int
) -> tuple[Matrix, Matrix]:
    """The pool's and the test items' features of the set a retrain on these labels reads."""
    if not pool.alternatives:
        return pool.x, test.x
    candidates = {BASE_FEATURES: pool.x[labeled]} | {
        name: matrix[labeled] for name, matrix in pool.alternatives.items()
    }
    chosen = feature_set_choose(candidates, pool.y[labeled], seed=seed + len(labeled)).features
    if chosen == BASE_FEATURES:
        return pool.x, test.x
    return pool.alternatives[chosen], test.alternatives[chosen]


def _replay(
    strategy: str, pool: Pool, test: HeldOut, labels: Sequence[str], budget: int, step: int, seed: int,
    metric: str, weak_doubt: Scores | None,
) -> list[tuple[int, float]]:  # fmt: skip
    """One seed of one strategy: label `step` items, retrain (on the feature set chosen on the labels so far,
    where the pool has several), score on the test items, until the budget."""
    y, ids = pool.y, pool.ids
    empty = np.zeros(0, dtype=np.int64)
    if strategy == Strategy.ADAPTIVE:
        labeled = _adaptive_batch(None, pool, empty, step, seed)
    else:
        labeled = _first_batch(strategy, pool.x, ids, step, seed)
    curve = []
    while True:
        x, test_x = _features_chosen(pool, test, labeled, seed)
        learner = learner_fit(strategy, x[labeled], y[labeled], seed) if can_train(y[labeled]) else None
        if learner is not None:
            proba = probabilities_full(learner.model, test_x, len(labels))
            curve.append((len(labeled), metric_value(metric, metrics_compute(test.y, proba, labels))))
        else:
            curve.append((len(labeled), 0.0))
        if len(labeled) + step > min(budget, len(y)):
            return curve
        rest = np.setdiff1d(np.arange(len(y)), labeled)
        if strategy == Strategy.ADAPTIVE:
            picked = _adaptive_batch(learner, pool._replace(x=x), labeled, step, seed)
        elif learner is None:
            picked = rest[_first_batch(strategy, x[rest], ids[rest], step, seed + len(labeled))]
        else:
            doubt = weak_doubt[rest] if weak_doubt is not None else None
            scores = scores_compute(
                strategy, learner, x[rest], ids[rest], f"sim:{seed}:{len(labeled)}", doubt
            )
            picked = rest[batch_select(strategy, scores, x[rest], step, x[labeled], seed)]
        if not len(picked):  # nothing left to ask
            return curve
        labeled = np.concatenate([labeled, picked])


def simulate(
    *, pool: Pool, test: HeldOut,
    labels: Sequence[str], strategies: Sequence[str], budget: int, step: int, seeds: int, metric: str,
    weak_doubt: Scores | None = None, progress: Callable[[str, int], None] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Every strategy's learning curve (mean over seeds) and the labels it needs to reach 95% of the model
    trained on the whole pool (on the feature set the whole pool's labels choose, where it has several)."""
    full_x, full_test_x = _features_chosen(pool, test, np.arange(len(pool.y)), 0)
    full = learner_fit(Strategy.RANDOM, full_x, pool.y) if can_train(pool.y) else None
    full_metric = (
        metric_value(metric, metrics_compute(test.y, probabilities_full(full.model, full_test_x, len(labels)),
                                             labels))
        if full is not None else 0.0
    )  # fmt: skip
    result: dict[str, Any] = {"metric": metric, "full_train": round(full_metric, 4), "strategies": {}}
    for strategy in strategies:
        runs = []
        for seed in range(seeds):
            runs.append(_replay(strategy, pool, test, labels, budget, step, seed, metric, weak_doubt))
            if progress is not None:
                progress(strategy, seed)
        result["strategies"][strategy] = curve_mean(runs, full_metric)
    return result
