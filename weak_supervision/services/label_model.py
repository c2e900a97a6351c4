"""Snorkel's label model, the majority-vote baseline and the LF analytics for one run's label matrix."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import torch
from sklearn.metrics import accuracy_score, f1_score
from snorkel.labeling import LFAnalysis
from snorkel.labeling.model import LabelModel, MajorityLabelVoter

from labeling.selectors.gold import gold_labels
from weak_supervision.models import LabelModelRun
from weak_supervision.services.multi_label import multi_label_results

ABSTAIN = -1
NO_SPLIT = "all"
# Snorkel's defaults for the tutorials and WRENCH; the seed makes a run reproducible.
FIT_EPOCHS = 500
FIT_LR = 0.01
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


class DistinctRowsLabelModel(LabelModel):
    """Snorkel's label model, fitted on a label matrix's distinct rows and how often each occurs.

    What the fit reads from the matrix (the number of rows, each LF's coverage and the overlap matrix O) are
    sums over rows, so weighting each distinct row by its count gives exactly the whole matrix's figures, and
    the cost no longer grows with the number of items: a million items with ten LFs have a few hundred
    distinct vote patterns. Everything else is Snorkel's own `fit`.
    """

    row_counts: npt.NDArray[np.int64] | None = None

    def _generate_O(self, L: npt.NDArray[Any], higher_order: bool = False) -> None:
        counts = self.row_counts
        if counts is None or len(counts) != len(L):
            super()._generate_O(L, higher_order=higher_order)
            return
        augmented = self._get_augmented_label_matrix(L, higher_order=higher_order)
        total = float(counts.sum())
        self.d = augmented.shape[1]
        self.O = (
            torch.from_numpy(augmented.T @ (augmented * counts[:, None]) / total)
            .float()
            .to(self.config.device)
        )
        # Set by fit from the distinct rows just before this step: weighted here as the rest.
        self.coverage = ((L != 0) * counts[:, None]).sum(axis=0) / total  # L is shifted: 0 abstains
        self.n = int(total)


def distinct_rows(
    matrix: npt.NDArray[np.int8],
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int64], npt.NDArray[np.intp]]:
    """The matrix's distinct rows (in order of first appearance), how often each occurs, and for each row of
    the matrix its distinct row."""
    if not len(matrix):
        return matrix, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.intp)
    # Each row as one integer (votes -1..k-1 as digits of base k+1) where it fits, which a hash table
    # groups far faster than rows compared column by column (or sorted: 0.11 s against 0.03 s at 1M rows).
    base = int(matrix.max()) + 2
    if matrix.shape[1] * np.log2(base) < 62:
        weights = base ** np.arange(matrix.shape[1], dtype=np.int64)
        keys = (matrix.astype(np.int64) + 1) @ weights
        codes, uniques = pd.factorize(keys)
        digits = (np.asarray(uniques, dtype=np.int64)[:, None] // weights[None, :]) % base
        counts = np.bincount(codes, minlength=len(uniques)).astype(np.int64)
        return (digits - 1).astype(np.int8), counts, codes.astype(np.intp)
    rows, inverse, counts = np.unique(matrix, axis=0, return_inverse=True, return_counts=True)
    return rows, counts.astype(np.int64), inverse.reshape(-1).astype(np.intp)


def _class_balance(
    gold: npt.NDArray[np.int64], valid: npt.NDArray[np.bool_], k: int
) -> npt.NDArray[np.float64] | None:
    """From the gold labels of the valid split where there are any, else from all gold labels."""
    has_gold = gold >= 0
    source = gold[has_gold & valid]
    if not len(source):
        source = gold[has_gold]
    if not len(source):
        return None
    counts = np.bincount(source, minlength=k).astype(np.float64) + 1.0  # smoothed: no class gets 0
    return np.asarray(counts / counts.sum(), dtype=np.float64)


def scores(y_true: npt.NDArray[np.int64], y_pred: npt.NDArray[np.int64], labels: list[str]) -> dict[str, Any]:
    classes = list(range(len(labels)))
    per_class = f1_score(y_true, y_pred, labels=classes, average=None, zero_division=0)
    return {
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "macro_f1": round(
            float(f1_score(y_true, y_pred, labels=classes, average="macro", zero_division=0)), 4
        ),
        "f1": {label: round(float(score), 4) for label, score in zip(labels, per_class, strict=True)},
    }


def _majority_vote(matrix: npt.NDArray[np.int8], k: int) -> npt.NDArray[np.int64]:
    # Snorkel breaks ties by a deterministic function of the row's position, so each split is voted on as
    # its own matrix (rows in import order), as WRENCH and the Snorkel tutorials do.
    voter = MajorityLabelVoter(cardinality=k, verbose=False)
    return np.asarray(voter.predict(matrix, tie_break_policy="random"), dtype=np.int64)


def _split_metrics(
    labels: list[str], gold: npt.NDArray[np.int64], split_codes: npt.NDArray[np.uint8], split_labels: list[str],
    covered: npt.NDArray[np.bool_], model_pred: npt.NDArray[np.int64], matrix: npt.NDArray[np.int8],
) -> dict[str, Any]:  # fmt: skip
    result: dict[str, Any] = {}
    sizes = np.bincount(split_codes, minlength=len(split_labels))
    covered_sizes = np.bincount(split_codes[covered], minlength=len(split_labels))
    gold_rows = np.flatnonzero(gold >= 0)
    for code, name in sorted(enumerate(split_labels), key=lambda pair: pair[1]):
        if not sizes[code]:
            continue
        scored = gold_rows[split_codes[gold_rows] == code]
        # Only the gold items are scored, so only they are voted on (Snorkel's voter is a Python loop per row).
        entry: dict[str, Any] = {
            "n_items": int(sizes[code]),
            "n_gold": len(scored),
            "coverage": round(float(covered_sizes[code] / sizes[code]), 4),
        }
        if len(scored):
            vote_pred = _majority_vote(matrix[scored], len(labels))
            entry["label_model"] = scores(gold[scored], model_pred[scored], labels)
            entry["majority_vote"] = scores(gold[scored], vote_pred, labels)
        result[name] = entry
    return result


def chunk_analysis(matrix: npt.NDArray[np.int8]) -> dict[str, Any]:
    """Snorkel's LFAnalysis of one chunk of the label matrix, as row counts per LF and polarities. Coverage,
    overlaps and conflicts each count rows (a row's figure depends on that row alone), so the sums over a
    run's chunks, divided by its rows, are exactly what LFAnalysis gives on the whole matrix (tested against
    it). Counted here with LFAnalysis's definitions on the dense chunk: a row overlaps where two or more LFs
    vote, conflicts where they vote for two or more labels; a fifth of the time of building its sparse form."""
    rows, m = matrix.shape
    covered = matrix != ABSTAIN
    voted = covered.sum(axis=1)
    highest = matrix.max(axis=1, initial=ABSTAIN)
    lowest = np.where(covered, matrix, np.iinfo(np.int8).max).min(axis=1, initial=np.iinfo(np.int8).max)
    overlapped = voted > 1
    conflicted = overlapped & (lowest < highest)
    labels = int(highest.max(initial=ABSTAIN)) + 2
    polarity = [
        np.flatnonzero(np.bincount(matrix[:, column].astype(np.int64) + 1, minlength=labels)[1:]).tolist()
        for column in range(m)
    ]
    return {
        "rows": rows,
        "covered": covered.sum(axis=0).astype(np.int64).tolist(),
        "overlaps": (covered & overlapped[:, None]).sum(axis=0).astype(np.int64).tolist(),
        "conflicts": (covered & conflicted[:, None]).sum(axis=0).astype(np.int64).tolist(),
        "polarity": polarity,
    }


def analysis_merge(parts: list[dict[str, Any]], m: int) -> dict[str, list[Any]]:
    """The whole matrix's LFAnalysis figures from its chunks' counts."""
    rows = sum(part["rows"] for part in parts) or 1
    merged: dict[str, list[Any]] = {}
    for name, key in (("Coverage", "covered"), ("Overlaps", "overlaps"), ("Conflicts", "conflicts")):
        merged[name] = [sum(part[key][column] for part in parts) / rows for column in range(m)]
    merged["Polarity"] = [
        sorted({p for part in parts for p in part["polarity"][column]}) for column in range(m)
    ]
    return merged


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


def split_labels_reported(names: list[str]) -> list[str]:
    """Split names as reported, for the names split codes point into: "all" when the project has none, else
    "none" for items without one."""
    if any(names):
        return [name or "none" for name in names]
    return [NO_SPLIT for _ in names]


def gold_column(run: LabelModelRun, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Each item's gold label index, or -1 (ids sorted, as runs keep them)."""
    index = {key: position for position, key in enumerate(run.labels)}
    gold = np.full(len(ids), ABSTAIN, dtype=np.int64)
    found = [
        (item_id, index[key]) for item_id, key in gold_labels(project=run.project).items() if key in index
    ]
    if found and len(ids):
        item_ids = np.array([item_id for item_id, _ in found], dtype=np.int64)
        positions = np.searchsorted(ids, item_ids)
        inside = (positions < len(ids)) & (ids[np.minimum(positions, len(ids) - 1)] == item_ids)
        gold[positions[inside]] = np.array([label for _, label in found], dtype=np.int64)[inside]
    return gold


def run_results_compute(
    *,
    run: LabelModelRun,
    ids: npt.NDArray[np.int64],
    matrix: npt.NDArray[np.int8],
    split_codes: npt.NDArray[np.uint8],
    split_labels: list[str],
    analysis: dict[str, list[Any]] | None = None,
) -> RunResults:
    """Fits the label model (on the train split when there is one), predicts every item, and scores both
    the model and majority vote on the gold labels of each split. Items' splits come as codes into
    `split_labels` (a million strings cost more to compare than the rest of this step). `analysis`: the
    LFAnalysis figures merged from the chunks, where the chunks computed them (else computed here on the whole
    matrix)."""
    split_labels = split_labels_reported(split_labels)
    if run.project.multi_label:
        splits = (
            np.asarray(split_labels, dtype="U8")[split_codes] if split_labels else np.zeros(0, dtype="U8")
        )
        probabilities, covered, metrics, per_lf = multi_label_results(
            run=run, ids=ids, matrix=matrix, splits=splits
        )
        return RunResults(ids=ids, labels=run.labels, probabilities=probabilities, covered=covered, metrics=metrics,
                          lf_analysis=per_lf, run=run)  # fmt: skip
    k = len(run.labels)
    # The model is tiny (LFs x labels): torch's thread pool only adds synchronisation. Measured on 1M items
    # and 10 LFs: fit 3.5 s with 2 threads, 0.65 s with 1; predict 1.2 s against 0.4 s.
    torch.set_num_threads(1)
    gold = gold_column(run, ids)

    def in_split(name: str) -> npt.NDArray[np.bool_]:
        return split_codes == split_labels.index(name) if name in split_labels else np.zeros(len(ids), bool)

    train = in_split("train")
    fit_rows = train if train.any() else np.ones(len(ids), dtype=bool)
    # The distinct vote patterns, once: the fit weighs those of the fitting rows by their counts, and each
    # item's probabilities, coverage and prediction (which depend on its row alone) are computed once per
    # pattern.
    patterns, _, pattern_of = distinct_rows(matrix)
    fit_counts = np.bincount(pattern_of[fit_rows], minlength=len(patterns))
    model = DistinctRowsLabelModel(cardinality=k, verbose=False)
    model.row_counts = fit_counts[fit_counts > 0].astype(np.int64)
    model.fit(patterns[fit_counts > 0], class_balance=_class_balance(gold, in_split("valid"), k),
              n_epochs=FIT_EPOCHS, lr=FIT_LR, seed=FIT_SEED, progress_bar=False)  # fmt: skip
    pattern_probabilities = model.predict_proba(patterns) if len(matrix) else np.zeros((0, k))
    probabilities = pattern_probabilities[pattern_of]
    covered = (patterns != ABSTAIN).any(axis=1)[pattern_of]
    model_pred = np.argmax(pattern_probabilities, axis=1).astype(np.int64)[pattern_of]
    metrics = {
        "splits": _split_metrics(run.labels, gold, split_codes, split_labels, covered, model_pred, matrix),
        "coverage": round(float(covered.mean()), 4) if len(covered) else 0.0,
        "n_items": len(ids),
        "class_balance": dict(zip(run.labels, (round(float(p), 4) for p in _prior(model, k)), strict=True)),
        "label_distribution": {
            label: int(count)
            for label, count in zip(run.labels, np.bincount(model_pred[covered], minlength=k), strict=True)
            if count
        },
    }
    return RunResults(ids=ids, labels=run.labels, probabilities=probabilities, covered=covered, metrics=metrics,
                      lf_analysis=_lf_analysis(run, matrix, gold, analysis), run=run)  # fmt: skip


def _prior(model: LabelModel, k: int) -> npt.NDArray[np.float64]:
    prior = getattr(model, "p", None)
    return (
        np.asarray(prior, dtype=np.float64) if prior is not None and len(prior) == k else np.full(k, 1.0 / k)
    )


def label_model_warm_up() -> None:
    """Fits a tiny model once, so that torch's one-time set-up (about 2 s) is not paid by the first run.

    Called when a worker process starts (config/celery.py).
    """
    torch.set_num_threads(1)
    tiny = np.array([[0, 1, -1], [1, 1, 0], [0, -1, 0], [1, 0, 1]], dtype=np.int8)
    LabelModel(cardinality=2, verbose=False).fit(tiny, n_epochs=5, seed=FIT_SEED, progress_bar=False)
