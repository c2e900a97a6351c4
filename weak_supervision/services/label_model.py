"""One run's results from its label matrix: the aggregators (weak_supervision.aggregators) chosen on held-out
usable gold, the WRENCH-style majority-vote baseline, the scores per split on the truth labels, the
guardrail warnings, and the LF analytics.

Which labels do what (the honest-evaluation rule): usable gold (`gold_labels_usable`: never the test split,
never an evaluation-only label) fits, weights and chooses; truth (`truth_labels`: gold plus evaluation-only
labels) only scores."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from snorkel.labeling import LFAnalysis
from snorkel.labeling.model import LabelModel, MajorityLabelVoter

from labeling.selectors.gold import gold_labels_usable, truth_labels
from weak_supervision.aggregators import (
    DistinctRowsLabelModel,
    aggregator_select,
    distinct_rows,
    scores,
)
from weak_supervision.models import LabelModelRun
from weak_supervision.services.guardrails import run_warnings
from weak_supervision.services.lf_analysis import analysis_merge, chunk_analysis, split_labels_reported
from weak_supervision.services.multi_label import multi_label_results
from weak_supervision.ties import predictions

__all__ = [
    "DistinctRowsLabelModel",
    "RunResults",
    "analysis_merge",
    "chunk_analysis",
    "distinct_rows",
    "gold_column",
    "label_model_warm_up",
    "run_results_compute",
    "scores",
    "split_labels_reported",
    "truth_column",
]

ABSTAIN = -1
FIT_SEED = 123


@dataclass
class RunResults:
    ids: npt.NDArray[np.int64]
    labels: list[str]
    probabilities: npt.NDArray[np.float64]
    covered: npt.NDArray[np.bool_]
    metrics: dict[str, Any]
    lf_analysis: list[dict[str, Any]]
    run: LabelModelRun


def _majority_vote(matrix: npt.NDArray[np.int8], k: int) -> npt.NDArray[np.int64]:
    # Snorkel breaks ties by a deterministic function of the row's position, so each split is voted on as
    # its own matrix (rows in import order), as WRENCH and the Snorkel tutorials do.
    voter = MajorityLabelVoter(cardinality=k, verbose=False)
    return np.asarray(voter.predict(matrix, tie_break_policy="random"), dtype=np.int64)


def _split_metrics(
    labels: list[str], truth: npt.NDArray[np.int64], split_codes: npt.NDArray[np.uint8], split_labels: list[str],
    covered: npt.NDArray[np.bool_], delivered: npt.NDArray[np.int64], matrix: npt.NDArray[np.int8],
    candidates: dict[str, npt.NDArray[np.int64]], usable: npt.NDArray[np.int64],
) -> dict[str, Any]:  # fmt: skip
    """Per split: sizes, coverage, and on the split's truth labels the delivered weak labels, every candidate
    aggregator, and WRENCH's majority-vote baseline (Snorkel's voter, ties broken as WRENCH does, each split
    voted on as its own matrix in import order: the figure the published tables give)."""
    result: dict[str, Any] = {}
    sizes = np.bincount(split_codes, minlength=len(split_labels))
    covered_sizes = np.bincount(split_codes[covered], minlength=len(split_labels))
    truth_rows = np.flatnonzero(truth >= 0)
    for code, name in sorted(enumerate(split_labels), key=lambda pair: pair[1]):
        if not sizes[code]:
            continue
        scored = truth_rows[split_codes[truth_rows] == code]
        in_split = split_codes == code
        entry: dict[str, Any] = {
            "n_items": int(sizes[code]),
            "n_gold": len(scored),
            "n_usable_gold": int(np.sum(in_split & (usable >= 0))),
            "coverage": round(float(covered_sizes[code] / sizes[code]), 4),
        }
        if len(scored):
            y = truth[scored]
            entry["weak_label"] = scores(y, delivered[scored], labels)
            entry["aggregators"] = {
                name_: scores(y, pred[scored], labels) for name_, pred in candidates.items()
            }
            if "label_model" in candidates:  # Snorkel's LabelModel, as the page has always shown it
                entry["label_model"] = entry["aggregators"]["label_model"]
            # Only the scored items are voted on (Snorkel's voter is a Python loop per row).
            entry["majority_vote"] = scores(y, _majority_vote(matrix[scored], len(labels)), labels)
        result[name] = entry
    return result


def _lf_analysis(
    run: LabelModelRun,
    matrix: npt.NDArray[np.int8],
    gold: npt.NDArray[np.int64],
    merged: dict[str, list[Any]] | None = None,
) -> list[dict[str, Any]]:
    with warnings.catch_warnings():
        # scipy warns about a dtype cast inside Snorkel's LFAnalysis; the figures are unaffected.
        warnings.filterwarnings("ignore", category=FutureWarning, module="scipy")
        if merged is None:
            summary = LFAnalysis(matrix).lf_summary()
            merged = {name: list(summary[name]) for name in ("Polarity", "Coverage", "Overlaps", "Conflicts")}
        scored = gold >= 0
        gold_summary = LFAnalysis(matrix[scored]).lf_summary(Y=gold[scored]) if scored.any() else None
    rows = []
    for column, lf in enumerate(run.lf_versions):
        polarity = merged["Polarity"][column]
        row = {"lf": lf["lf"], "name": lf["name"], "kind": lf["kind"], "version": lf["version"],
               "polarity": [run.labels[int(p)] for p in polarity],
               "coverage": round(float(merged["Coverage"][column]), 4),
               "overlaps": round(float(merged["Overlaps"][column]), 4),
               "conflicts": round(float(merged["Conflicts"][column]), 4),
               "correct": None, "incorrect": None, "empirical_accuracy": None}  # fmt: skip
        if gold_summary is not None:
            correct, incorrect = (
                int(gold_summary["Correct"].iloc[column]),
                int(gold_summary["Incorrect"].iloc[column]),
            )
            answered = correct + incorrect
            accuracy = round(correct / answered, 4) if answered else None
            row.update(correct=correct, incorrect=incorrect, empirical_accuracy=accuracy)
        rows.append(row)
    return rows


def _label_column(
    found: dict[int, str], labels: list[str], ids: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    index = {key: position for position, key in enumerate(labels)}
    column = np.full(len(ids), ABSTAIN, dtype=np.int64)
    pairs = [(item_id, index[key]) for item_id, key in found.items() if key in index]
    if pairs and len(ids):
        item_ids = np.array([item_id for item_id, _ in pairs], dtype=np.int64)
        positions = np.searchsorted(ids, item_ids)
        inside = (positions < len(ids)) & (ids[np.minimum(positions, len(ids) - 1)] == item_ids)
        column[positions[inside]] = np.array([label for _, label in pairs], dtype=np.int64)[inside]
    return column


def gold_column(run: LabelModelRun, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Each item's usable gold label index, or -1 (ids sorted, as runs keep them): what may fit and choose."""
    return _label_column(gold_labels_usable(project=run.project), run.labels, ids)


def truth_column(run: LabelModelRun, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Each item's truth label index (gold, or its evaluation-only label), or -1: what scores."""
    return _label_column(truth_labels(project=run.project), run.labels, ids)


def run_results_compute(
    *,
    run: LabelModelRun,
    ids: npt.NDArray[np.int64],
    matrix: npt.NDArray[np.int8],
    split_codes: npt.NDArray[np.uint8],
    split_labels: list[str],
    analysis: dict[str, list[Any]] | None = None,
) -> RunResults:
    """Fits every aggregator, chooses one on held-out usable gold (`aggregator_select`), delivers its
    probabilities as the run's weak labels, and scores the delivered labels, every candidate and majority vote
    on the truth labels of each split. Items' splits come as codes into `split_labels` (a million strings cost
    more to compare than the rest of this step). `analysis`: the LFAnalysis figures merged from the chunks,
    where the chunks computed them (else computed here on the whole matrix)."""
    split_labels = split_labels_reported(split_labels)
    if run.project.multi_label:
        splits = (
            np.asarray(split_labels, dtype="U8")[split_codes] if split_labels else np.zeros(0, dtype="U8")
        )
        probabilities, covered, metrics, per_lf = multi_label_results(
            run=run, ids=ids, matrix=matrix, splits=splits
        )
        metrics["warnings"] = run_warnings(metrics=metrics, labels=run.labels, lf_analysis=per_lf)
        return RunResults(ids=ids, labels=run.labels, probabilities=probabilities, covered=covered, metrics=metrics,
                          lf_analysis=per_lf, run=run)  # fmt: skip
    k = len(run.labels)
    usable, truth = gold_column(run, ids), truth_column(run, ids)

    def in_split(name: str) -> npt.NDArray[np.bool_]:
        return split_codes == split_labels.index(name) if name in split_labels else np.zeros(len(ids), bool)

    selection = aggregator_select(matrix=matrix, k=k, gold=usable, valid=in_split("valid"), ids=ids)
    probabilities = selection.probabilities[selection.name]
    covered = selection.covered
    candidates = {name: predictions(values, ids) for name, values in selection.probabilities.items()}
    delivered = candidates[selection.name]
    usable_known = usable[usable >= 0]
    metrics = {
        "splits": _split_metrics(
            run.labels, truth, split_codes, split_labels, covered, delivered, matrix, candidates, usable
        ),
        "aggregator": selection.to_json(),
        "coverage": round(float(covered.mean()), 4) if len(covered) else 0.0,
        "n_items": len(ids),
        "n_usable_gold": len(usable_known),
        "class_balance": dict(zip(run.labels, (round(float(p), 4) for p in selection.prior), strict=True)),
        "gold_distribution": {
            label: int(count)
            for label, count in zip(run.labels, np.bincount(usable_known, minlength=k), strict=True)
        },
        "label_distribution": {
            label: int(count)
            for label, count in zip(run.labels, np.bincount(delivered, minlength=k), strict=True)
            if count
        },
    }
    per_lf = _lf_analysis(run, matrix, usable, analysis)
    metrics["warnings"] = run_warnings(metrics=metrics, labels=run.labels, lf_analysis=per_lf)
    return RunResults(ids=ids, labels=run.labels, probabilities=probabilities, covered=covered, metrics=metrics,
                      lf_analysis=per_lf, run=run)  # fmt: skip


def label_model_warm_up() -> None:
    """Fits a tiny model once, so that torch's one-time set-up (about 2 s) is not paid by the first run.

    Called when a worker process starts (config/celery.py).
    """
    torch.set_num_threads(1)
    tiny = np.array([[0, 1, -1], [1, 1, 0], [0, -1, 0], [1, 0, 1]], dtype=np.int8)
    LabelModel(cardinality=2, verbose=False).fit(tiny, n_epochs=5, seed=FIT_SEED, progress_bar=False)
