"""Multi-label runs: one independent yes/no question per label.

Each LF votes for one label (it says "this label is present") or abstains; it says nothing about the other
labels. Snorkel's LabelModel needs votes on both sides of a question, so for multi-label projects each
label's probability is a noisy-OR of the LFs that voted for it, weighted by how often each LF is right
when it votes (its precision on gold items, smoothed; 0.7 when it has voted on no gold item):

    P(label present) = 1 - prod over voting LFs of (1 - precision)

and, where no LF voted for the label, the label's share among gold items that got no vote for it either
(0 without gold). A label is predicted at P >= 0.5.

Like single-label runs, a multi-label run fits several aggregators and chooses one on held-out usable gold
(`multi_label_select`): `any_vote` (a label is present where any LF voted for it: the majority-vote
baseline), `noisy_or` (above) and, with at least SUPERVISED_MIN_GOLD fitting gold items, `supervised` (per
label, a logistic regression over the one-hot votes of every LF). They are scored by macro F1 over labels on
covered gold items not used to fit them: the valid split's (at least MIN_HELDOUT, with MIN_FIT_GOLD others
to fit on), else out of fold over CV_FOLDS folds (at least MIN_CV_GOLD covered gold items), else the default,
`noisy_or` (without gold every LF's precision is the same 0.7, so it answers exactly as `any_vote` does).
A more complex candidate must beat a simpler one by more than one held-out item's worth of score (TIE_RULE).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from labeling.selectors.gold import gold_label_sets_usable, truth_label_sets
from weak_supervision.aggregators import (
    CV_FOLDS,
    MIN_CV_GOLD,
    MIN_FIT_GOLD,
    MIN_HELDOUT,
    TIE_RULE,
    fold_of,
    one_hot,
    vote_counts,
)
from weak_supervision.choices import MULTI_LABEL_AGGREGATOR_NAMES
from weak_supervision.models import LabelModelRun
from weak_supervision.ties import simplest_within_tie

ABSTAIN = -1
DEFAULT_PRECISION = 0.7
THRESHOLD = 0.5
SUPERVISED_MIN_GOLD = 50
SUPERVISED_C = 1.0
DEFAULT_AGGREGATOR = "noisy_or"

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


def _unvoted_prior(voted: Bool2D, gold: Bool2D, fit: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    return np.array([
        gold[~voted[:, label] & fit, label].mean() if (~voted[:, label] & fit).any() else 0.0
        for label in range(gold.shape[1])
    ])  # fmt: skip


def _fit_any_vote(
    matrix: npt.NDArray[np.int8], gold: Bool2D, fit: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float64]:
    voted = vote_counts(matrix, gold.shape[1]) > 0
    return np.where(voted, 1.0, _unvoted_prior(voted, gold, fit)[None, :])


def _fit_noisy_or(
    matrix: npt.NDArray[np.int8], gold: Bool2D, fit: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float64]:
    precisions = [stat["precision"] for stat in _precisions(matrix, gold, fit)]
    return _probabilities(matrix, precisions, gold, fit)


def _fit_supervised(
    matrix: npt.NDArray[np.int8], gold: Bool2D, fit: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float64]:
    k = gold.shape[1]
    x = one_hot(matrix, k)
    result = np.zeros((matrix.shape[0], k), dtype=np.float64)
    for label in range(k):
        y = gold[fit, label]
        if y.all() or not y.any():  # one answer among the fitting items: that answer's share
            result[:, label] = float(y.mean()) if len(y) else 0.0
            continue
        model = LogisticRegression(C=SUPERVISED_C, max_iter=1000).fit(x[fit], y)
        result[:, label] = model.predict_proba(x)[:, 1]
    return result


# name -> (fit, fitting gold items it needs), simplest first
CANDIDATES: dict[str, tuple[Callable[..., npt.NDArray[np.float64]], int]] = {
    "any_vote": (_fit_any_vote, 0),
    "noisy_or": (_fit_noisy_or, 0),
    "supervised": (_fit_supervised, SUPERVISED_MIN_GOLD),
}


assert tuple(CANDIDATES) == MULTI_LABEL_AGGREGATOR_NAMES


def _macro_f1(gold: Bool2D, predicted: Bool2D) -> float:
    """Macro F1 over labels; a label that neither the held-out items have nor the candidate predicts counts as
    right (1), so a candidate is not marked down for a label the held-out items happen to lack."""
    return float(f1_score(gold, predicted, average="macro", zero_division=1.0)) if len(gold) else 0.0


def multi_label_select(
    *, matrix: npt.NDArray[np.int8], gold: Bool2D, has_gold: npt.NDArray[np.bool_], valid: npt.NDArray[np.bool_],
    ids: npt.NDArray[np.int64],
) -> tuple[str, dict[str, Any], dict[str, npt.NDArray[np.float64]]]:  # fmt: skip
    """The chosen aggregator's name, how it was chosen (the run's `aggregator` entry), and every candidate's
    probabilities refitted on all usable gold (see the module's docstring)."""
    covered = (matrix != ABSTAIN).any(axis=1)
    valid_gold = has_gold & valid & covered
    other_gold = has_gold & ~valid
    n_gold = int(has_gold.sum())
    held_scores: dict[str, float] = {}
    if valid_gold.sum() >= MIN_HELDOUT and other_gold.sum() >= MIN_FIT_GOLD:
        selected_on, n_heldout = "valid", int(valid_gold.sum())
        for name, (fit, needs) in CANDIDATES.items():
            if other_gold.sum() >= needs:
                fitted = fit(matrix, gold, other_gold)
                held_scores[name] = _macro_f1(gold[valid_gold], fitted[valid_gold] >= THRESHOLD)
    elif n_gold >= MIN_CV_GOLD and int((has_gold & covered).sum()) >= MIN_CV_GOLD:
        selected_on = "cross_validation"
        gold_rows = np.flatnonzero(has_gold)
        folds = fold_of(ids[gold_rows], CV_FOLDS)
        scored = covered[gold_rows]
        n_heldout = int(scored.sum())
        for name, (fit, needs) in CANDIDATES.items():
            if n_gold * (CV_FOLDS - 1) / CV_FOLDS < needs:
                continue
            predicted = np.zeros((len(gold_rows), gold.shape[1]), dtype=bool)
            for fold in range(CV_FOLDS):
                out = folds == fold
                if not out.any():
                    continue
                fitting = has_gold.copy()
                fitting[gold_rows[out]] = False
                predicted[out] = fit(matrix, gold, fitting)[gold_rows[out]] >= THRESHOLD
            held_scores[name] = _macro_f1(gold[gold_rows][scored], predicted[scored])
    else:
        selected_on, n_heldout = "default", 0
    chosen = simplest_within_tie(held_scores, CANDIDATES, n_heldout) or DEFAULT_AGGREGATOR
    probabilities = {
        name: fit(matrix, gold, has_gold) for name, (fit, needs) in CANDIDATES.items() if n_gold >= needs
    }
    skipped = {
        name: f"{n_gold} usable gold item(s); it needs at least {needs}"
        for name, (_, needs) in CANDIDATES.items()
        if n_gold < needs
    }
    entry: dict[str, Any] = {
        "name": chosen, "selected_on": selected_on, "metric": "macro_f1",
        "scores": {name: round(score, 4) for name, score in held_scores.items()}, "n_heldout": n_heldout,
        "params": {"threshold": THRESHOLD}, "skipped": skipped,
        "tie_rule": TIE_RULE,
    }  # fmt: skip
    return chosen, entry, probabilities


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
    chosen, aggregator, candidates = multi_label_select(
        matrix=matrix, gold=gold, has_gold=has_gold, valid=splits == "valid", ids=ids
    )
    probabilities = candidates[chosen]
    covered = (matrix != ABSTAIN).any(axis=1)
    predicted = probabilities >= THRESHOLD
    answers = {name: values >= THRESHOLD for name, values in candidates.items()}
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
            entry["aggregators"] = {
                name: multi_label_scores(truth[scored], values[scored], run.labels)
                for name, values in answers.items()
            }
            entry["label_model"] = entry["aggregators"]["noisy_or"]
            entry["majority_vote"] = entry["aggregators"]["any_vote"]
            entry["weak_label"] = multi_label_scores(truth[scored], predicted[scored], run.labels)
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
        "aggregator": aggregator,
        "threshold": THRESHOLD,
        "label_distribution": {label: int(predicted[:, i].sum()) for i, label in enumerate(run.labels)},
    }
    return probabilities, covered, metrics, analysis
