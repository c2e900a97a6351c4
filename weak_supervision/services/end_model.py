"""The end model: a text classifier trained on the label model's answers, which reaches the items no LF covers.

Snorkel's own workflow: the label model only knows what the LFs vote, so an item no LF covers gets the class
balance and nothing more; a classifier trained on the label model's confident answers learns from the texts
themselves and generalises past the LFs (on WRENCH sms, whose spam LFs barely fire on the test split, it
is what beats majority vote). It runs after a run succeeds, as its own task, so a run's labels never wait
for it:

- features: the project's cached hashed TF-IDF blocks (the ones the active learner uses; built here where
  missing, once per item), IDF over every item;
- training: the covered items of the train split (every covered item when the project has no splits), each
  with the label model's answer, weighted by its confidence; at most END_MODEL_TRAIN_LIMIT of them, an even
  draw by a hash of the item;
- the project's classifier (logistic regression, classes balanced), scored on each split's gold items beside
  the label model and majority vote, and its probabilities for every item stored in a file of their own.
"""

from __future__ import annotations

import io
import logging
import time
import traceback
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import transaction

from core.storage import storage_write
from features.choices import FeatureKind
from features.classifiers import can_train, classifier_fit, hash_uniform, probabilities_full
from features.models import FeatureBlock
from features.services.cache import block_load, features_get, features_refresh, idf_compute
from features.vectors import weigh
from weak_supervision.choices import EndModelStatus, RunStatus
from weak_supervision.models import LabelModelRun
from weak_supervision.selectors import run_probabilities_get
from weak_supervision.services.label_model import gold_column, scores, split_labels_reported
from weak_supervision.services.runs import run_matrix_coded

logger = logging.getLogger("oversight.weak_supervision")

END_MODEL_TRAIN_LIMIT = 100_000
MIN_TRAIN = 10
FEATURES = FeatureKind.HASHED_TFIDF
SKIP_NO_PROBABILITIES = "the run stored no probabilistic labels"
SKIP_MULTI_LABEL = "multi-label projects have no end model yet"
SKIP_TOO_FEW = f"fewer than {MIN_TRAIN} covered training items with at least two classes"


def end_model_path(run: LabelModelRun) -> str:
    return f"weak_supervision/runs/{run.project_id}/{run.pk}/end_model.npz"


def _record(run: LabelModelRun, entry: dict[str, Any], split_scores: dict[str, Any] | None = None) -> None:
    """Stores the end model's status (and its scores per split) in the run's metrics, under a row lock."""
    with transaction.atomic():
        locked = LabelModelRun.objects.select_for_update().get(pk=run.pk)
        metrics = dict(locked.metrics or {})
        metrics["end_model"] = entry
        splits = metrics.get("splits", {})
        for name, found in (split_scores or {}).items():
            if name in splits:
                splits[name]["end_model"] = found
        LabelModelRun.objects.filter(pk=run.pk).update(metrics=metrics)
    run.refresh_from_db()


def _training_rows(
    ids: npt.NDArray[np.int64], covered: npt.NDArray[np.bool_], splits: npt.NDArray[np.str_], seed: str
) -> npt.NDArray[np.int64]:
    in_train = splits == "train" if (splits == "train").any() else np.ones(len(ids), dtype=bool)
    rows = np.flatnonzero(covered & in_train)
    if len(rows) > END_MODEL_TRAIN_LIMIT:  # an even draw, the same every time
        rows = np.sort(rows[np.argsort(hash_uniform(ids[rows], seed))[:END_MODEL_TRAIN_LIMIT]])
    return rows


def _predict_all(
    run: LabelModelRun, model: Any, idf: npt.NDArray[np.float32] | None, ids: npt.NDArray[np.int64], k: int
) -> npt.NDArray[np.float32]:
    """The classifier's probabilities for every item of the run, a feature block at a time."""
    result = np.zeros((len(ids), k), dtype=np.float32)
    for block in FeatureBlock.objects.filter(project_id=run.project_id, kind=FEATURES).order_by("first_id"):
        block_ids, features, _ = block_load(block)
        positions = np.searchsorted(ids, block_ids)
        inside = (positions < len(ids)) & (ids[np.minimum(positions, len(ids) - 1)] == block_ids)
        if inside.any():
            x = weigh(features[np.flatnonzero(inside)], idf)
            result[positions[inside]] = probabilities_full(model, x, k)
    return result


def end_model_fit(*, run: LabelModelRun) -> LabelModelRun:
    """Trains the end model on a finished run's labels, scores it and stores its probabilities."""
    if run.status != RunStatus.SUCCEEDED:
        return run
    if run.project.multi_label:
        _record(run, {"status": EndModelStatus.SKIPPED, "reason": SKIP_MULTI_LABEL})
        return run
    started = time.perf_counter()
    try:
        loaded = run_probabilities_get(run=run)
        if loaded is None:
            _record(run, {"status": EndModelStatus.SKIPPED, "reason": SKIP_NO_PROBABILITIES})
            return run
        ids, probabilities, covered = loaded
        # The chunk files carry the splits, in the same rows as `ids`.
        _, _, split_codes, split_labels = run_matrix_coded(run)
        splits = np.asarray(split_labels_reported(split_labels), dtype="U8")[split_codes]
        rows = _training_rows(ids, covered, splits, f"end-model:{run.project_id}")
        y = probabilities[rows].argmax(axis=1).astype(np.int64)
        if len(rows) < MIN_TRAIN or not can_train(y):
            _record(run, {"status": EndModelStatus.SKIPPED, "reason": SKIP_TOO_FEW})
            return run
        features_refresh(project=run.project, kind=FEATURES)
        idf = idf_compute(project=run.project, kind=FEATURES)
        found, x = features_get(project=run.project, kind=FEATURES, item_ids=ids[rows].tolist(), idf=idf)
        keep = np.searchsorted(ids[rows], found)  # features_get returns the ids it found, sorted
        if x is None or not can_train(y[keep]):
            _record(run, {"status": EndModelStatus.SKIPPED, "reason": SKIP_TOO_FEW})
            return run
        weights = probabilities[rows].max(axis=1).astype(np.float64)[keep]
        model = classifier_fit(x, y[keep], weights)
        k = len(run.labels)
        predicted = _predict_all(run, model, idf, ids, k)
        path = end_model_path(run)
        buffer = io.BytesIO()
        np.savez(buffer, ids=ids, probabilities=predicted)
        storage_write(path, buffer.getvalue())
        gold, preds = gold_column(run, ids), predicted.argmax(axis=1).astype(np.int64)
        split_scores = {}
        for name in sorted(set(splits.tolist())):
            scored = (splits == name) & (gold >= 0)
            if scored.any():
                split_scores[name] = scores(gold[scored], preds[scored], run.labels)
        entry = {"status": EndModelStatus.SUCCEEDED, "path": path, "n_train": len(found), "features": FEATURES,
                 "seconds": round(time.perf_counter() - started, 2)}  # fmt: skip
        _record(run, entry, split_scores)
    except Exception:
        _record(run, {"status": EndModelStatus.FAILED, "error": traceback.format_exc()[-4000:]})
        raise
    return run
