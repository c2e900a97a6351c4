"""Retraining: fit the project's classifier on its gold labels (and, if chosen, weak labels), score the
pool in chunks that any worker can take, and write the queue priorities the labeling queue follows.

A retrain is a LearnerModel row that moves pending -> training -> scoring -> succeeded (or failed). One runs
at a time per project (a partial unique constraint), so a burst of triggers starts one retrain. Every step
is idempotent: a retried task finds its work done (a chunk's file recorded, the model file written) and
goes on from there.
"""

from __future__ import annotations

import io
import time
import traceback
from dataclasses import dataclass
from typing import Any

import joblib
import numpy as np
import numpy.typing as npt
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from active_learning import tasks
from active_learning.choices import ModelStatus, Strategy, Trigger
from active_learning.evaluation import metrics_compute
from active_learning.models import LearnerModel, LearnerSettings, ScoreChunk
from active_learning.selectors import model_payload_load, weak_doubt_get
from active_learning.strategies import batch_select, diverse_select, learner_fit, scores_compute
from core.storage import storage_write
from features.classifiers import can_train, hash_uniform, probabilities_full, stack
from features.models import FeatureBlock
from features.services.cache import block_load, feature_block_build, features_get, features_plan, idf_compute
from features.vectors import Matrix, weigh
from labeling.models import Annotation
from labeling.selectors.gold import gold_labels
from projects.choices import Split
from projects.models import Item, Project
from weak_supervision.selectors import latest_run, run_probabilities_get

ERROR_MULTI_LABEL = "Active learning ranks items for single-label projects; this project is multi-label."
ERROR_NO_ITEMS = "The project has no items to learn from."
ERROR_BUSY = "A retrain of this project is already under way (model {number})."
# Items given a queue priority per retrain, per item of the batch: analysts label the batch (the most
# informative, diverse items) first, then the next best, until the next retrain re-ranks the pool.
WINDOW_PER_BATCH_ITEM = 10
MIN_WINDOW = 500
# Weak labels trained on at most: more adds seconds to every retrain and little to a linear model.
WEAK_SAMPLE = 20_000
HOLDOUT_SHARE = 0.2  # of gold items held out for metrics when the project has no test or validation split
MIN_HELDOUT = 10
_ACTIVE = (ModelStatus.PENDING, ModelStatus.TRAINING, ModelStatus.SCORING)


def learner_settings_get(*, project: Project) -> LearnerSettings:
    settings, _ = LearnerSettings.objects.get_or_create(project=project)
    return settings


def learner_settings_update(*, project: Project, **values: Any) -> LearnerSettings:
    """Changes a project's active-learning settings (unknown names are refused)."""
    settings = learner_settings_get(project=project)
    for name, value in values.items():
        if not hasattr(settings, name) or name in {"id", "project", "project_id"}:
            raise ValidationError(f"Unknown setting '{name}'.", code="unknown_setting")
        setattr(settings, name, value)
    settings.full_clean()
    settings.save()
    return settings


# --- triggering --------------------------------------------------------------------------------------------
def learner_retrain(
    *, project: Project, trigger: str = Trigger.MANUAL, user: User | None = None
) -> LearnerModel:
    """Starts a retrain (on a worker, once this transaction commits). Refused while one is under way."""
    if project.multi_label:
        raise ValidationError(ERROR_MULTI_LABEL, code="multi_label")
    if not Item.objects.filter(project=project).exists():
        raise ValidationError(ERROR_NO_ITEMS, code="no_items")
    settings = learner_settings_get(project=project)
    watermark = Annotation.objects.filter(project=project).aggregate(top=Max("pk"))["top"] or 0
    try:
        with transaction.atomic():
            number = (
                LearnerModel.objects.filter(project=project).aggregate(top=Max("number"))["top"] or 0
            ) + 1
            model = LearnerModel.objects.create(
                project=project, number=number, trigger=trigger, created_by=user, strategy=settings.strategy,
                features=settings.features, annotation_watermark=watermark,
                labels=list(project.labels.order_by("order", "pk").values_list("key", flat=True)),
            )  # fmt: skip
    except IntegrityError:
        busy = LearnerModel.objects.filter(project=project, status__in=_ACTIVE).first()
        raise ValidationError(ERROR_BUSY.format(number=busy.number if busy else "?"), code="busy") from None
    transaction.on_commit(lambda: tasks.learner_model_train_task.delay(model.pk))
    return model


def learner_retrain_if_due(*, project: Project) -> LearnerModel | None:
    """Called after every new annotation: starts a retrain once `retrain_every` annotations arrived since the
    last one. Reads one settings row and counts at most `retrain_every` new annotations by primary key."""
    # A project nobody has configured yet follows the defaults (on, every 50 annotations).
    settings = LearnerSettings.objects.filter(project=project).first() or LearnerSettings(project=project)
    if not settings.enabled or project.multi_label:
        return None
    last = LearnerModel.objects.filter(project=project).order_by("-number").first()
    if last is not None and last.status in _ACTIVE:
        return None
    watermark = last.annotation_watermark if last is not None else 0
    new = Annotation.objects.filter(project=project, pk__gt=watermark).values("pk")[: settings.retrain_every]
    if new.count() < settings.retrain_every:
        return None
    try:
        return learner_retrain(project=project, trigger=Trigger.ANNOTATIONS)
    except ValidationError:  # a colleague's submit started it a moment ago
        return None


# --- the retrain's steps -----------------------------------------------------------------------------------
def learner_model_fail(*, model_id: int, error: str) -> None:
    LearnerModel.objects.filter(pk=model_id).exclude(status=ModelStatus.SUCCEEDED).update(
        status=ModelStatus.FAILED, error=error, finished_at=timezone.now()
    )


def features_missing(*, model: LearnerModel) -> list[tuple[int, int]]:
    """The feature ranges a retrain must build before training ([first id, last id] each)."""
    return [
        (plan.first_id, plan.last_id) for plan in features_plan(project=model.project, kind=model.features)
    ]


def feature_range_build(*, model: LearnerModel, first_id: int, last_id: int) -> None:
    feature_block_build(project=model.project, kind=model.features, first_id=first_id, last_id=last_id)


@dataclass
class TrainingSet:
    ids: npt.NDArray[np.int64]
    x: Matrix | None
    y: npt.NDArray[np.int64]
    weights: npt.NDArray[np.float64]
    heldout: npt.NDArray[np.bool_]
    n_weak: int
    weak_run: int | None
    gold_ids: npt.NDArray[np.int64]


def _heldout_ids(project: Project, gold: dict[int, str]) -> set[int]:
    """Gold items kept out of training to measure the model: the test and validation splits where the
    project has them, else a fixed fifth of the gold items (by a hash of their id)."""
    held = set(
        Item.objects.filter(
            project=project, pk__in=list(gold), split__in=[Split.TEST, Split.VALID]
        ).values_list("pk", flat=True)
    )
    if held or len(gold) < MIN_HELDOUT / HOLDOUT_SHARE:
        return held
    ids = np.asarray(sorted(gold), dtype=np.int64)
    return set(ids[hash_uniform(ids, f"holdout:{project.pk}") < HOLDOUT_SHARE].tolist())


def _weak_labels(
    project: Project, settings: LearnerSettings, labels: list[str], exclude: set[int]
) -> tuple[dict[int, tuple[int, float]], int | None]:
    """Confident label-model answers (item id -> class index, confidence) from the latest run."""
    run = latest_run(project=project)
    loaded = run_probabilities_get(run=run) if run is not None else None
    if run is None or loaded is None:
        return {}, None
    ids, probabilities, covered = loaded
    confidence = probabilities.max(axis=1)
    keep = covered & (confidence >= settings.weak_min_confidence) & ~np.isin(ids, list(exclude))
    rows = np.flatnonzero(keep)
    if len(rows) > WEAK_SAMPLE:  # an even draw across the pool, the same at every retrain
        rows = rows[np.argsort(hash_uniform(ids[rows], f"weak:{project.pk}"))[:WEAK_SAMPLE]]
    index = {key: position for position, key in enumerate(labels)}
    answers = {}
    for row in rows.tolist():
        key = run.labels[int(np.argmax(probabilities[row]))]
        if key in index:
            answers[int(ids[row])] = (index[key], float(confidence[row]))
    return answers, run.number


def training_set_build(*, model: LearnerModel, idf: npt.NDArray[np.float32] | None) -> TrainingSet:
    project = model.project
    settings = learner_settings_get(project=project)
    index = {key: position for position, key in enumerate(model.labels)}
    gold = {item: key for item, key in gold_labels(project=project).items() if key in index}
    heldout = _heldout_ids(project, gold)
    weak: dict[int, tuple[int, float]] = {}
    weak_run = None
    if settings.use_weak_labels:
        weak, weak_run = _weak_labels(project, settings, model.labels, set(gold))
    ids, x = features_get(project=project, kind=model.features, item_ids=[*gold, *weak], idf=idf)
    y = np.asarray([index[gold[i]] if i in gold else weak[i][0] for i in ids.tolist()], dtype=np.int64)
    weights = np.asarray([1.0 if i in gold else weak[i][1] for i in ids.tolist()], dtype=np.float64)
    held = np.asarray([i in heldout for i in ids.tolist()], dtype=bool)
    gold_ids = np.fromiter(gold, dtype=np.int64, count=len(gold))
    n_weak = int(np.sum(~np.isin(ids, gold_ids)))
    return TrainingSet(ids=ids, x=x, y=y, weights=weights, heldout=held, n_weak=n_weak, weak_run=weak_run,
                       gold_ids=gold_ids)  # fmt: skip


def model_path(model: LearnerModel) -> str:
    return f"active_learning/models/{model.project_id}/{model.pk}.joblib"


def learner_model_train(*, model: LearnerModel) -> LearnerModel:
    """Fits the classifier (with the cache complete), measures it on held-out gold items and stores it with
    what scoring needs (IDF weights, the labeled items' features for diverse batches)."""
    started = time.perf_counter()
    LearnerModel.objects.filter(pk=model.pk).update(status=ModelStatus.TRAINING)
    idf = idf_compute(project=model.project, kind=model.features)
    data = training_set_build(model=model, idf=idf)
    train = ~data.heldout
    fitted = None
    metrics: dict[str, Any] = {}
    if data.x is not None and can_train(data.y[train]):
        fitted = learner_fit(model.strategy, data.x[train], data.y[train], weights=data.weights[train])
        if data.heldout.any():
            proba = probabilities_full(fitted.model, data.x[data.heldout], len(model.labels))
            metrics = metrics_compute(data.y[data.heldout], proba, model.labels)
    n_gold = int(np.sum(train)) - data.n_weak
    human = np.isin(data.ids, data.gold_ids)
    # Human-labeled items leave the pool; weakly labeled ones stay in it (a human answer still teaches).
    payload = {"learner": fitted, "idf": idf, "labels": model.labels, "labeled_ids": data.ids[human],
               "labeled_x": data.x[train & human] if data.x is not None else None}  # fmt: skip
    buffer = io.BytesIO()
    joblib.dump(payload, buffer)
    path = model_path(model)
    storage_write(path, buffer.getvalue())
    blocks = list(
        FeatureBlock.objects.filter(project=model.project, kind=model.features).order_by("first_id")
    )
    LearnerModel.objects.filter(pk=model.pk).update(
        status=ModelStatus.SCORING, path=path, metrics=metrics, n_labels=max(n_gold, 0), n_weak=data.n_weak,
        weak_run=data.weak_run, chunks=[block.pk for block in blocks],
        seconds={"train": round(time.perf_counter() - started, 3)},
    )  # fmt: skip
    model.refresh_from_db()
    return model


# --- scoring the pool, one feature block per chunk ---------------------------------------------------------
def window_size(settings: LearnerSettings) -> int:
    return max(MIN_WINDOW, settings.batch_size * WINDOW_PER_BATCH_ITEM)


def score_chunk_path(model: LearnerModel, index: int) -> str:
    return f"active_learning/scores/{model.project_id}/{model.pk}/{index}.npz"


def _chunk_bytes(ids: npt.NDArray[np.int64], scores: npt.NDArray[np.float64], x: Matrix | None) -> bytes:
    buffer = io.BytesIO()
    joblib.dump({"ids": ids, "scores": scores, "x": x}, buffer)
    return buffer.getvalue()


def _chunk_candidates(
    model: LearnerModel, payload: dict[str, Any], ids: npt.NDArray[np.int64], features: Matrix
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], Matrix]:
    """A block's open items ranked by the strategy, cut to the window (the most any chunk can contribute)."""
    project = model.project
    x = weigh(features, payload["idf"])
    keep = window_size(learner_settings_get(project=project))
    learner = payload["learner"]
    if learner is None and model.strategy != Strategy.RANDOM:  # cold start: this block's cluster centres
        picked = diverse_select(x, min(keep, max(1, len(ids) // 10)), seed=model.number)
        scores = np.zeros(len(ids))
        scores[picked] = 1.0 - np.arange(len(picked)) / max(len(picked), 1)
    else:
        doubt = weak_doubt_get(project, ids) if model.strategy == Strategy.WEAK else None
        scores = scores_compute(model.strategy, learner, x, ids, f"{project.pk}:{model.number}", doubt)
    top = np.argsort(-scores, kind="stable")[:keep]
    return ids[top], scores[top], x[top]


def score_chunk_compute(*, model: LearnerModel, index: int) -> ScoreChunk:
    """Scores one feature block's open items and keeps its best candidates. Idempotent."""
    done = ScoreChunk.objects.filter(model=model, index=index).first()
    if done is not None:
        return done
    started = time.perf_counter()
    project = model.project
    payload = model_payload_load(model.path)
    block = FeatureBlock.objects.filter(pk=model.chunks[index]).first()
    chosen_ids, chosen_scores, chosen_x = np.zeros(0, np.int64), np.zeros(0), None
    pool = 0
    if block is not None:
        ids, features, _ = block_load(block)
        # Answered items are the few: reading them is much cheaper than reading the block's open ones.
        answered = Item.objects.filter(
            project=project, pk__gte=block.first_id, pk__lte=block.last_id, remaining__lte=0
        ).values_list("pk", flat=True)
        closed = np.concatenate([np.fromiter(answered, np.int64), payload["labeled_ids"]])
        rows = np.flatnonzero(~np.isin(ids, closed))
        pool = len(rows)
    if pool:  # a block whose items are all answered has nothing to rank
        chosen_ids, chosen_scores, chosen_x = _chunk_candidates(model, payload, ids[rows], features[rows])
    path = score_chunk_path(model, index)
    storage_write(path, _chunk_bytes(chosen_ids, chosen_scores, chosen_x))
    chunk, _ = ScoreChunk.objects.get_or_create(
        model=model,
        index=index,
        defaults={"path": path, "rows": pool, "seconds": time.perf_counter() - started},
    )
    return chunk


def _chunks_load(
    model: LearnerModel,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], Matrix | None, int]:
    chunks = list(ScoreChunk.objects.filter(model=model).order_by("index"))
    missing = sorted(set(range(len(model.chunks))) - {chunk.index for chunk in chunks})
    if missing:
        raise ValidationError(f"Chunks {missing} of model {model.number} were not scored.", code="chunks")
    ids, scores, parts = [], [], []
    for chunk in chunks:
        with default_storage.open(chunk.path, "rb") as handle:
            part = joblib.load(io.BytesIO(handle.read()))
        ids.append(part["ids"])
        scores.append(part["scores"])
        if part["x"] is not None and part["x"].shape[0]:
            parts.append(part["x"])
    pool = sum(chunk.rows for chunk in chunks)
    if not ids:
        return np.zeros(0, np.int64), np.zeros(0), None, 0
    return np.concatenate(ids), np.concatenate(scores), stack(parts) if parts else None, pool


# Rows whose priority one transaction writes: the labeling queue skips locked rows, so each batch holds its
# locks only for the milliseconds its UPDATE takes (the queue waits for them only when nothing else is open).
PRIORITY_BATCH = 100


def priorities_write(*, project: Project, ordered_ids: npt.NDArray[np.int64]) -> int:
    """The queue follows these items first, in this order; every other open item goes back to priority 0.

    Written in small transactions, not one: the queue locks items as it hands them out, and one big write
    would hold every prioritized row while it waits for those. Between batches the queue sees some old
    priorities and some new, which only changes which good item comes first.
    """
    count = len(ordered_ids)
    wanted = {int(item): float(count - position) for position, item in enumerate(ordered_ids.tolist())}
    stale = list(
        Item.objects.filter(project=project, remaining__gt=0, priority__gt=0)
        .exclude(pk__in=list(wanted))
        .values_list("pk", flat=True)
    )
    for start in range(0, len(stale), PRIORITY_BATCH):
        Item.objects.filter(pk__in=stale[start : start + PRIORITY_BATCH]).update(priority=0.0)
    items = [Item(pk=item, priority=priority) for item, priority in wanted.items()]
    for start in range(0, len(items), PRIORITY_BATCH):
        Item.objects.bulk_update(items[start : start + PRIORITY_BATCH], ["priority"])
    return count


def learner_model_finish(*, model: LearnerModel) -> LearnerModel:
    """Merges the chunks' candidates, picks the batch (diverse where the strategy says so) and writes the
    queue priorities: the batch first, then the rest of the window by score."""
    try:
        started = time.perf_counter()
        settings = learner_settings_get(project=model.project)
        payload = model_payload_load(model.path)
        ids, scores, x, pool = _chunks_load(model)
        window = np.argsort(-scores, kind="stable")[: window_size(settings)]
        ordered = ids[window]
        if len(window) and x is not None:
            if payload["learner"] is None and model.strategy != Strategy.RANDOM:
                batch = diverse_select(x[window], settings.batch_size, seed=model.number)
            else:
                batch = batch_select(model.strategy, scores[window], x[window], settings.batch_size,
                                     payload["labeled_x"], seed=model.number)  # fmt: skip
            rest = np.setdiff1d(np.arange(len(window)), batch, assume_unique=True)
            ordered = np.concatenate([ids[window][batch], ids[window][np.sort(rest)]])
        written = priorities_write(project=model.project, ordered_ids=ordered)
        seconds = {**model.seconds, "score_chunks": round(sum(
            ScoreChunk.objects.filter(model=model).values_list("seconds", flat=True)), 3),
            "finish": round(time.perf_counter() - started, 3)}  # fmt: skip
        LearnerModel.objects.filter(pk=model.pk).update(
            status=ModelStatus.SUCCEEDED, pool_size=pool, prioritized=written, seconds=seconds,
            finished_at=timezone.now(), error="",
        )  # fmt: skip
    except Exception:
        learner_model_fail(model_id=model.pk, error=traceback.format_exc())
        raise
    model.refresh_from_db()
    return model


def learner_model_run_inline(*, model: LearnerModel) -> LearnerModel:
    """Every step of a retrain in this process (the benchmark and the embedded default's eager tasks use
    the same steps the workers run)."""
    for first_id, last_id in features_missing(model=model):
        feature_range_build(model=model, first_id=first_id, last_id=last_id)
    model = learner_model_train(model=model)
    for index in range(len(model.chunks)):
        score_chunk_compute(model=model, index=index)
    return learner_model_finish(model=model)
