"""Multi-label runs: one independent yes/no question per label.

Each LF votes for one label (it says "this label is present") or abstains; it says nothing about the other
labels. Snorkel's LabelModel needs votes on both sides of a question, so for multi-label projects each
label's probability is a noisy-OR of the LFs that voted for it, weighted by how often each LF is right
when it votes (its precision on gold items, smoothed; 0.7 when it has voted on no gold item):

    P(label present) = 1 - prod over voting LFs of (1 - precision)

and, where no LF voted for the label, the label's share among gold items that got no vote for it either
(0 without gold). The baseline
("majority vote") counts a label present when any LF voted for it. A label is predicted at P >= 0.5.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import f1_score

from labeling.selectors.gold import gold_label_sets_usable, truth_label_sets
from weak_supervision.models import LabelModelRun

ABSTAIN = -1
DEFAULT_PRECISION = 0.7
THRESHOLD = 0.5

Bool2D = npt.NDArray[np.bool_]


def label_sets_column(
    run: LabelModelRun, ids: npt.NDArray[np.int64], reader: Callable[..., dict[int, frozenset[str]]]
) -> tuple[Bool2D, npt.NDArray[np.bool_]]:
    """Each item's label set as a row of yes/no per label, and whether it has one (ids sorted, as runs keep
    them), from `reader` (usable gold to fit and choose, truth to score)."""
    sets = reader(project=run.project)
    k = len(run.labels)
    gold = np.zeros((len(ids), k), dtype=bool)
    has_gold = np.zeros(len(ids), dtype=bool)
    for row, item_id in enumerate(ids.tolist()):
        if item_id in sets:
            has_gold[row] = True
            for key in sets[item_id]:
                if key in run.labels:
                    gold[row, run.labels.index(key)] = True
    return gold, has_gold


def _precisions(
    matrix: npt.NDArray[np.int8], gold: Bool2D, has_gold: npt.NDArray[np.bool_]
) -> list[dict[str, Any]]:
    stats = []
    for column in range(matrix.shape[1]):
        votes = matrix[:, column]
        judged = (votes != ABSTAIN) & has_gold
        correct = int(gold[judged, votes[judged]].sum()) if judged.any() else 0
        total = int(judged.sum())
        precision = (correct + 1) / (total + 2) if total else DEFAULT_PRECISION
        stats.append(
            {
                "correct": correct if total else None,
                "incorrect": total - correct if total else None,
                "precision": precision,
            }
        )
    return stats


def _probabilities(
    matrix: npt.NDArray[np.int8], precisions: Sequence[float], gold: Bool2D, has_gold: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float64]:
    n, k = matrix.shape[0], gold.shape[1]
    miss = np.ones((n, k), dtype=np.float64)  # probability that every voting LF is wrong
    voted = np.zeros((n, k), dtype=bool)
    for column, precision in enumerate(precisions):
        votes = matrix[:, column]
        rows = np.flatnonzero(votes != ABSTAIN)
        miss[rows, votes[rows]] *= 1.0 - precision
        voted[rows, votes[rows]] = True
    # Where no LF voted for a label: how often gold items that got no vote for it have it anyway.
    prior = np.array(
        [
            gold[~voted[:, label] & has_gold, label].mean() if (~voted[:, label] & has_gold).any() else 0.0
            for label in range(k)
        ]
    )
    return np.where(voted, 1.0 - miss, prior[None, :])


def multi_label_scores(gold: Bool2D, predicted: Bool2D, labels: list[str]) -> dict[str, Any]:
    per_label = f1_score(gold, predicted, average=None, zero_division=0)
    return {
        "accuracy": round(float((gold == predicted).all(axis=1).mean()), 4),  # exact set match
        "macro_f1": round(float(f1_score(gold, predicted, average="macro", zero_division=0)), 4),
        "f1": {label: round(float(score), 4) for label, score in zip(labels, per_label, strict=True)},
    }


def multi_label_results(
    *,
    run: LabelModelRun,
    ids: npt.NDArray[np.int64],
    matrix: npt.NDArray[np.int8],
    splits: npt.NDArray[np.str_],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], dict[str, Any], list[dict[str, Any]]]:
    """Probabilities (items x labels, independent), coverage, metrics per split and per-LF analytics."""
    # Usable gold (never the test split's, never evaluation-only labels) fits; truth scores.
    gold, has_gold = label_sets_column(run, ids, gold_label_sets_usable)
    truth, has_truth = label_sets_column(run, ids, truth_label_sets)
    stats = _precisions(matrix, gold, has_gold)
    probabilities = _probabilities(matrix, [s["precision"] for s in stats], gold, has_gold)
    covered = (matrix != ABSTAIN).any(axis=1)
    predicted = probabilities >= THRESHOLD
    any_vote = np.zeros_like(predicted)
    for column in range(matrix.shape[1]):
        rows = np.flatnonzero(matrix[:, column] != ABSTAIN)
        any_vote[rows, matrix[rows, column]] = True
    split_metrics: dict[str, Any] = {}
    for name in sorted(set(splits.tolist())):
        in_split = splits == name
        scored = in_split & has_truth
        entry: dict[str, Any] = {
            "n_items": int(in_split.sum()),
            "n_gold": int(scored.sum()),
            "n_usable_gold": int((in_split & has_gold).sum()),
            "coverage": round(float(covered[in_split].mean()), 4),
        }
        if scored.any():
            entry["label_model"] = multi_label_scores(truth[scored], predicted[scored], run.labels)
            entry["majority_vote"] = multi_label_scores(truth[scored], any_vote[scored], run.labels)
            entry["weak_label"] = entry["label_model"]
            entry["aggregators"] = {"noisy_or": entry["label_model"], "any_vote": entry["majority_vote"]}
        split_metrics[name] = entry
    analysis = []
    for column, lf in enumerate(run.lf_versions):
        votes = matrix[:, column]
        fired = votes != ABSTAIN
        others = (
            (np.delete(matrix, column, axis=1) != ABSTAIN)
            if matrix.shape[1] > 1
            else np.zeros((len(ids), 0), bool)
        )
        polarity = sorted({run.labels[v] for v in np.unique(votes[fired]).tolist()})
        stat = stats[column]
        answered = (stat["correct"] or 0) + (stat["incorrect"] or 0)
        analysis.append(
            {
                "lf": lf["lf"],
                "name": lf["name"],
                "kind": lf["kind"],
                "version": lf["version"],
                "polarity": polarity,
                "coverage": round(float(fired.mean()), 4) if len(ids) else 0.0,
                "overlaps": round(float((fired & others.any(axis=1)).mean()), 4) if len(ids) else 0.0,
                "conflicts": 0.0,  # in a multi-label project two labels at once do not conflict
                "correct": stat["correct"],
                "incorrect": stat["incorrect"],
                "empirical_accuracy": round(stat["correct"] / answered, 4) if answered else None,
            }
        )
    metrics = {
        "splits": split_metrics,
        "coverage": round(float(covered.mean()), 4) if len(ids) else 0.0,
        "n_items": len(ids),
        "aggregator": {
            "name": "noisy_or",
            "selected_on": "default",
            "metric": "macro_f1",
            "scores": {},
            "n_heldout": 0,
            "params": {"threshold": THRESHOLD},
            "skipped": {},
        },
        "threshold": THRESHOLD,
        "label_distribution": {label: int(predicted[:, i].sum()) for i, label in enumerate(run.labels)},
    }
    return probabilities, covered, metrics, analysis
