"""Retraining: fit the project's classifier on its gold labels (and, if chosen, weak labels), score the
pool in chunks that any worker can take, and write the queue priorities the labeling queue follows.

A retrain is a LearnerModel row that moves pending -> training -> scoring -> succeeded (or failed). One runs
at a time per project (a partial unique constraint), so a burst of triggers starts one retrain. Every step
is idempotent: a retried task finds its work done (a chunk's file recorded, the model file written) and
goes on from there.
"""

from __future__ import annotations

import io
import math
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import joblib
import numpy as np
import numpy.typing as npt
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from active_learning import tasks
from active_learning.audit import (
    Evidence,
    audit_draw,
    audit_stratum,
    batch_compose,
    batch_sizes,
    evidence_compute,
)
from active_learning.choices import ModelStatus, Strategy, Trigger
from active_learning.evaluation import metrics_compute
from active_learning.feature_sets import FeatureChoice, feature_set_choose
from active_learning.models import LearnerModel, LearnerSettings, ScoreChunk
from active_learning.selectors import (
    TrainingSet,
    item_features,
    learner_model_latest,
    model_payload_load,
    training_set_get,
    weak_doubt_get,
)
from active_learning.services.span_training import (
    span_chunk_compute,
    span_model_train,
    span_order,
    span_suggestions_refresh,
    span_suggestions_write,
)
from active_learning.strategies import (
    batch_select,
    cluster_select,
    diverse_select,
    learner_fit,
    scores_compute,
)
from core.cache import counter_incr_and_get
from core.jobs import automatic_job_resting, automatic_rest_until, enqueue_on_commit
from core.storage import storage_write
from features.choices import DEFAULT_FEATURES, ENCODER_KINDS
from features.classifiers import can_train, probabilities_full, stack
from features.encoders import ERROR_ENCODER_MISSING, encoder_available
from features.models import FeatureBlock
from features.selectors import project_extra_feature_sets
from features.services.cache import (
    block_features,
    feature_block_build,
    features_get,
    features_plan,
    idf_compute,
    primary_blocks,
    stored_kinds,
)
from features.vectors import Matrix
from labeling.choices import AnnotationSource
from labeling.models import Annotation
from projects.models import Item, Project

ERROR_MULTI_LABEL = "Active learning ranks items for single-label projects; this project is multi-label."
ERROR_NO_ITEMS = "The project has no items to learn from."
ERROR_BUSY = "A retrain of this project is already under way (model {number})."
# Items given a queue priority per retrain, per item of the batch: analysts label the batch (the most
# informative, diverse items) first, then the next best, until the next retrain re-ranks the pool.
WINDOW_PER_BATCH_ITEM = 10
MIN_WINDOW = 500
# On a big project a retrain and the rest after it take minutes, and the analysts would run through a
# fixed window meanwhile, into items nobody ranked. Each model therefore ranks, when it finishes, as many items
# as the project's own answer rate says will be taken before the next model's ranking lands (window_planned),
# with a margin for the rate's swings, up to a bound on what one finish writes (its chunks keep that many).
WINDOW_MARGIN = 1.5
MAX_WINDOW = 20_000
_ACTIVE = (ModelStatus.PENDING, ModelStatus.TRAINING, ModelStatus.SCORING)


def learner_settings_get(*, project: Project) -> LearnerSettings:
    settings, _ = LearnerSettings.objects.get_or_create(project=project)
    return settings


def encoder_missing(kind: str) -> bool:
    """Whether features of this kind need the text encoder and it is not installed (nothing could build
    them: a retrain would fail)."""
    return kind in ENCODER_KINDS and not encoder_available()


def learner_settings_update(*, project: Project, **values: Any) -> LearnerSettings:
    """Changes a project's active-learning settings (unknown names, and features whose encoder is not
    installed, are refused)."""
    settings = learner_settings_get(project=project)
    was_shown = settings.show_suggestions
    for name, value in values.items():
        if not hasattr(settings, name) or name in {"id", "project", "project_id"}:
            raise ValidationError(f"Unknown setting '{name}'.", code="unknown_setting")
        if name == "features" and value != settings.features and encoder_missing(value):
            error = ValidationError(ERROR_ENCODER_MISSING, code="encoder_missing")
            raise ValidationError({"features": error})
        setattr(settings, name, value)
    settings.full_clean()
    settings.save()
    cache.delete(_TRIGGER_KEY.format(project=project.pk))
    if was_shown and not settings.show_suggestions:
        suggestions_clear(project=project)
    elif settings.show_suggestions and not was_shown:
        latest = learner_model_latest(project=project)
        if latest is not None:
            enqueue_on_commit(tasks.suggestions_refresh_task, latest.pk)
    return settings


def suggestions_clear(*, project: Project) -> int:
    """Takes the stored suggestions (a label, or a span project's spans) off the project's items
    (suggestions were turned off)."""
    return (
        Item.objects.filter(project=project)
        .filter(~Q(suggested_label="") | Q(suggested_by__isnull=False))
        .update(suggested_label="", suggested_spans=[], suggested_confidence=None, suggested_by=None)
    )


# --- triggering --------------------------------------------------------------------------------------------
def learner_retrain(
    *, project: Project, trigger: str = Trigger.MANUAL, user: User | None = None
) -> LearnerModel:
    """Starts a retrain (on a worker, once this transaction commits). Refused while one is under way, and
    where the project's features need a text encoder that is not installed."""
    if project.multi_label:
        raise ValidationError(ERROR_MULTI_LABEL, code="multi_label")
    if not Item.objects.filter(project=project).exists():
        raise ValidationError(ERROR_NO_ITEMS, code="no_items")
    settings = learner_settings_get(project=project)
    # A span project's tagger reads no text encoder: its features are its tokens'.
    if encoder_missing(settings.features) and not project.is_spans:
        raise ValidationError(ERROR_ENCODER_MISSING, code="encoder_missing")
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
    enqueue_on_commit(tasks.learner_model_train_task, model.pk)
    return model


# The hot path's side of the trigger: every new annotation counts in the cache (Redis in production, one
# round trip with the cached `retrain_every`, no SQL), and each `retrain_every`-th one enqueues the check
# below on a worker. The check reads the database, so a lost counter only delays a retrain; it never starts
# one that is not due.
_NEW_ANSWERS_KEY = "al:new-answers:{project}"
_TRIGGER_KEY = "al:trigger:{project}"
_TRIGGER_SECONDS = 3600
_REST_CHECK_KEY = "al:rest-check:{project}"


def learner_retrain_signal(*, project: Project) -> bool:
    """Called on every new annotation, inside its transaction: counts it and, when as many as the project's
    `retrain_every` arrived since the last check, enqueues `learner_retrain_if_due` on a worker once the
    transaction commits (never run inside the web request). Returns whether it enqueued the check."""
    if project.multi_label:
        return False
    # The count and the cached `retrain_every` in one round trip (an answer is counted even while retraining
    # is off: the check the count enqueues reads the database, so an early one starts nothing).
    count, every = counter_incr_and_get(
        _NEW_ANSWERS_KEY.format(project=project.pk), _TRIGGER_KEY.format(project=project.pk)
    )
    every = _retrain_every_cached(project) if every is None else int(every)
    if every <= 0 or count % every:
        return False
    enqueue_on_commit(tasks.learner_retrain_if_due_task, project.pk)
    return True


def _retrain_every_cached(project: Project) -> int:
    """The project's `retrain_every`, or 0 when retraining on annotations is off, read from the database and
    cached until the settings change (learner_settings_update forgets it): where the cache had none."""
    settings = LearnerSettings.objects.filter(project=project).first() or LearnerSettings(project=project)
    every = settings.retrain_every if settings.enabled else 0
    cache.set(_TRIGGER_KEY.format(project=project.pk), every, timeout=_TRIGGER_SECONDS)
    return every


def retrain_resting_until(last: LearnerModel | None) -> datetime | None:
    """Until when answers start no retrain after `last` (core.jobs.automatic_rest_until): automatic retrains
    are under way at most OVERSIGHT_AUTO_JOB_MAX_SHARE of the time, so one that took W seconds from its
    creation to its end (its feature blocks, training, chunks and finish, and any wait for a worker) rests
    W * (1 / share - 1). A retrain over ten thousand items rests a second or so; one over a million, whose
    chunks take a worker most of a minute, a few minutes, instead of running back to back and holding a core
    as long as analysts answer (more workers shorten both). None: no rest."""
    if last is None or last.status != ModelStatus.SUCCEEDED or last.finished_at is None:
        return None
    worked = (last.finished_at - last.created_at).total_seconds()
    return automatic_rest_until(finished_at=last.finished_at, worked_seconds=worked)


def learner_retrain_if_due(*, project: Project) -> LearnerModel | None:
    """Starts a retrain once `retrain_every` annotations arrived since the last one (on a worker: the task
    learner_retrain_signal enqueues) and the last one has rested (retrain_resting_until). Reads one settings
    row and counts at most `retrain_every` new annotations by primary key."""
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
    key = _REST_CHECK_KEY.format(project=project.pk)
    if automatic_job_resting(retrain_resting_until(last), key, tasks.learner_retrain_if_due_task, project.pk):
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


def features_missing(*, model: LearnerModel) -> list[tuple[str, int, int]]:
    """The feature ranges a retrain must build before training: (stored kind, first id, last id) each (a
    hybrid kind plans each of its parts). None for a span project: its token features are hashed as read."""
    if model.project.is_spans:
        return []
    parts = dict.fromkeys(part for kind in feature_sets(model) for part in stored_kinds(kind))
    return [
        (plan.kind, plan.first_id, plan.last_id)
        for part in parts
        for plan in features_plan(project=model.project, kind=part)
    ]


def feature_sets(model: LearnerModel) -> tuple[str, ...]:
    """The feature sets a retrain chooses from on its labels (active_learning.feature_sets), simplest first:
    the project's setting, and where that is the default, the sets its items call for (metadata text
    fields, the words between two marked spans: features.selectors.project_extra_feature_sets)."""
    if model.features != DEFAULT_FEATURES:
        return (model.features,)
    return (model.features, *project_extra_feature_sets(project=model.project))


def feature_range_build(*, model: LearnerModel, kind: str, first_id: int, last_id: int) -> None:
    feature_block_build(project=model.project, kind=kind, first_id=first_id, last_id=last_id)


def model_path(model: LearnerModel) -> str:
    return f"active_learning/models/{model.project_id}/{model.pk}.joblib"


def _evidence(model: LearnerModel, data: TrainingSet) -> Evidence:
    """The adaptive strategy's audit evidence (active_learning.audit), from the gold rows only."""
    if model.strategy != Strategy.ADAPTIVE or data.x is None:
        return Evidence()
    rows = np.flatnonzero(data.human)
    audit = audit_stratum(data.ids[rows], model.project_id)
    return evidence_compute(data.x[rows], data.y[rows], audit, seed=model.number)


def _feature_set_choice(
    model: LearnerModel, data: TrainingSet, candidates: tuple[str, ...], idf: npt.NDArray[np.float32] | None
) -> FeatureChoice:
    """The feature set the retrain reads, cross-validated on its human labels (active_learning.feature_sets):
    only those rows' features are read for the other candidates."""
    human = np.flatnonzero(data.human)
    ids = data.ids[human]
    if data.x is None:
        return FeatureChoice(candidates[0], n_labels=len(ids))
    labeled: dict[str, Matrix] = {candidates[0]: data.x[human]}
    for kind in candidates[1:]:
        found, x = features_get(project=model.project, kind=kind, item_ids=ids.tolist(), idf=idf)
        if x is None or not np.array_equal(found, ids):  # a block missing: compare nothing
            return FeatureChoice(candidates[0], n_labels=len(ids))
        labeled[kind] = x
    return feature_set_choose(labeled, data.y[human], seed=model.number)


def learner_model_train(*, model: LearnerModel) -> LearnerModel:
    """Fits the classifier (with the cache complete), measures it on held-out items and stores it with what
    scoring needs (IDF weights, the labeled items' features for diverse batches, the audit evidence). A span
    project's tagger instead (services.span_training)."""
    if model.project.is_spans:
        return span_model_train(model=model, path=model_path(model))
    started = time.perf_counter()
    LearnerModel.objects.filter(pk=model.pk).update(status=ModelStatus.TRAINING)
    settings = learner_settings_get(project=model.project)
    idf = idf_compute(project=model.project, kind=model.features)
    data = training_set_get(model=model, settings=settings, idf=idf)
    candidates = feature_sets(model)
    choice = FeatureChoice(model.features, n_labels=int(np.sum(data.human)))
    if len(candidates) > 1:
        choice = _feature_set_choice(model, data, candidates, idf)
        if choice.features != model.features:
            # Every candidate reads the same hashed TF-IDF part first, so the IDF weights are the same.
            model.features = choice.features
            data = training_set_get(model=model, settings=settings, idf=idf)
    fitted = None
    metrics: dict[str, Any] = {}
    evidence = Evidence()
    if data.x is not None and can_train(data.y):
        fitted = learner_fit(model.strategy, data.x, data.y, weights=data.weights)
        score_ids, score_x, score_y = data.scoring
        if score_x is not None and len(score_ids):
            proba = probabilities_full(fitted.model, score_x, len(model.labels))
            metrics = metrics_compute(score_y, proba, model.labels)
        evidence = _evidence(model, data)
    # Human-labeled items leave the pool; weakly labeled ones stay in it (a human answer still teaches).
    payload = {"learner": fitted, "idf": idf, "labels": model.labels, "labeled_ids": data.labeled_ids,
               "labeled_x": data.x[data.human] if data.x is not None else None,
               "evidence": evidence.as_dict()}  # fmt: skip
    buffer = io.BytesIO()
    joblib.dump(payload, buffer)
    path = model_path(model)
    storage_write(path, buffer.getvalue())
    blocks = primary_blocks(project=model.project, kind=model.features)
    if len(candidates) > 1:
        metrics["feature_sets"] = choice.as_dict()
    LearnerModel.objects.filter(pk=model.pk).update(
        status=ModelStatus.SCORING, path=path, metrics=metrics, n_labels=int(np.sum(data.human)),
        features=model.features,
        n_weak=data.n_weak, weak_run=data.weak_run, chunks=[block.pk for block in blocks],
        evidence=evidence.as_dict(), seconds={"train": round(time.perf_counter() - started, 3)},
    )  # fmt: skip
    model.refresh_from_db()
    return model


# --- scoring the pool, one feature block per chunk ---------------------------------------------------------
def window_size(settings: LearnerSettings) -> int:
    """The window the batch is chosen from (and suggestions are written for): the best-ranked open items."""
    return max(MIN_WINDOW, settings.batch_size * WINDOW_PER_BATCH_ITEM)


def window_planned(*, model: LearnerModel, settings: LearnerSettings, now: datetime) -> int:
    """How many open items `model`, finishing now, ranks to the queue's front (LearnerModel.window): the
    answers expected before the next model lands its ranking, in items (each takes `overlap` answers), times
    WINDOW_MARGIN, within [window_size, MAX_WINDOW].

    Evidence, from the project itself: how long this model has worked (W, from its start to now) and the
    rate of human answers, the higher of the rate since the model before it started (this one's start for
    a first model) and the rate during its own run (a load that just grew shows there first). Once this
    model lands, the next starts after the rest (W * (1 / share - 1), core.jobs) and works about W more:
    W / share in all; or, where it was longer, as long as passed between the model before it landing and
    this one (the next may wait as long for a busy worker).

    With no answer since the model before it started (a first model, or one that finished while nobody was
    labeling) there is no rate to plan by, and analysts may start at any moment, at any pace, with the next
    model minutes away on a big project (measured: a million-item project's first model ranked only its base
    window, and 8 analysts then labeled unranked items for minutes): it ranks as far as one finish goes."""
    base = window_size(settings)
    worked = (now - model.created_at).total_seconds()
    previous = (
        LearnerModel.objects.filter(project_id=model.project_id, number__lt=model.number)
        .order_by("-number")
        .first()
    )
    since = previous if previous is not None else model
    elapsed = (now - since.created_at).total_seconds()
    if worked <= 0 or elapsed <= 0:
        return base
    # One read counts both: the answers since the model before it started, and those during its own run.
    counts = Annotation.objects.filter(
        project_id=model.project_id, source=AnnotationSource.HUMAN, pk__gt=since.annotation_watermark
    ).aggregate(since=Count("pk"), own=Count("pk", filter=Q(pk__gt=model.annotation_watermark)))
    rate = max(int(counts["since"]) / elapsed, int(counts["own"]) / worked)
    if rate == 0:
        return max(base, MAX_WINDOW)
    horizon = worked / float(django_settings.OVERSIGHT_AUTO_JOB_MAX_SHARE)
    if previous is not None and previous.status == ModelStatus.SUCCEEDED and previous.finished_at is not None:
        # The time between the last two landings, where it was longer: the next model may wait as long again
        # for a worker that other jobs keep busy (truth inference, every 200 answers), not only for the rest.
        horizon = max(horizon, (now - previous.finished_at).total_seconds())
    wanted = math.ceil(rate * horizon * WINDOW_MARGIN / max(1, model.project.overlap))
    return min(MAX_WINDOW, max(base, wanted))


def score_chunk_path(model: LearnerModel, index: int) -> str:
    return f"active_learning/scores/{model.project_id}/{model.pk}/{index}.npz"


@dataclass
class Candidates:
    """A chunk's best items (or every chunk's): ids, scores (higher first), features, and which are audit
    draws of the adaptive strategy (their score is 1 - their draw, so they keep the draw's order)."""

    ids: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float64]
    x: Matrix | None
    audit: npt.NDArray[np.bool_]
    # Ranked beyond the window (up to MAX_WINDOW): ids and scores only; the finish takes what it plans.
    tail_ids: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    tail_scores: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))


def _chunk_bytes(candidates: Candidates) -> bytes:
    buffer = io.BytesIO()
    joblib.dump({"ids": candidates.ids, "scores": candidates.scores, "x": candidates.x,
                 "audit": candidates.audit, "tail_ids": candidates.tail_ids,
                 "tail_scores": candidates.tail_scores}, buffer)  # fmt: skip
    return buffer.getvalue()


def _ranked(
    model: LearnerModel, payload: dict[str, Any], ids: npt.NDArray[np.int64], x: Matrix, keep: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The rows of a block's open items the strategy ranks best, at most `keep`, with their scores."""
    if not len(ids):
        return np.zeros(0, np.int64), np.zeros(0)
    project = model.project
    learner = payload["learner"]
    if learner is None and model.strategy != Strategy.RANDOM:  # cold start: this block's cluster centres
        picked = diverse_select(x, min(keep, max(1, len(ids) // 10)), seed=model.number)
        scores = np.zeros(len(ids))
        scores[picked] = 1.0 - np.arange(len(picked)) / max(len(picked), 1)
    else:
        doubt = weak_doubt_get(project, ids) if model.strategy == Strategy.WEAK else None
        scores = scores_compute(model.strategy, learner, x, ids, f"{project.pk}:{model.number}", doubt)
    top = np.argsort(-scores, kind="stable")[:keep].astype(np.int64)
    return top, scores[top]


def _chunk_candidates(
    model: LearnerModel, payload: dict[str, Any], ids: npt.NDArray[np.int64], x: Matrix
) -> Candidates:
    """A block's open items ranked by the strategy, cut to the window (the most any chunk can contribute),
    with their features; those ranked beyond it up to MAX_WINDOW, without (the finish plans how many it
    writes: window_planned); and for the adaptive strategy the block's first audit draws (as many as a batch
    could take)."""
    settings = learner_settings_get(project=model.project)
    stratum = np.zeros(len(ids), dtype=bool)
    if model.strategy == Strategy.ADAPTIVE:
        stratum = audit_stratum(ids, model.project_id)
    others = np.flatnonzero(~stratum)
    window = window_size(settings)
    # A cold start picks cluster centres, as many as it keeps: only the window's (no ranking beyond it).
    keep = max(window, MAX_WINDOW) if payload["learner"] is not None else window
    ranked, ranked_scores = _ranked(model, payload, ids[others], x[others], keep)
    top, scores = ranked[:window], ranked_scores[:window]
    draws = np.flatnonzero(stratum)
    draw = audit_draw(ids[draws], model.project_id)
    order = np.argsort(draw, kind="stable")[: settings.batch_size]
    rows = np.concatenate([others[top], draws[order]])
    audit = np.zeros(len(rows), dtype=bool)
    audit[len(top) :] = True
    return Candidates(ids[rows], np.concatenate([scores, 1.0 - draw[order]]), x[rows], audit,
                      tail_ids=ids[others[ranked[window:]]], tail_scores=ranked_scores[window:])  # fmt: skip


def score_chunk_compute(*, model: LearnerModel, index: int) -> ScoreChunk:
    """Scores one feature block's open items (a span project: one range of open items) and keeps its best
    candidates. Idempotent."""
    if model.project.is_spans:
        settings = learner_settings_get(project=model.project)
        return span_chunk_compute(model=model, index=index, path=score_chunk_path(model, index),
                                  keep=window_size(settings), draws=settings.batch_size)  # fmt: skip
    done = ScoreChunk.objects.filter(model=model, index=index).first()
    if done is not None:
        return done
    started = time.perf_counter()
    project = model.project
    payload = model_payload_load(model.path)
    block = FeatureBlock.objects.filter(pk=model.chunks[index]).first()
    candidates = Candidates(np.zeros(0, np.int64), np.zeros(0), None, np.zeros(0, dtype=bool))
    pool = 0
    if block is not None:
        ids, x = block_features(project=project, kind=model.features, block=block, idf=payload["idf"])
        # Answered items are the few: reading them is much cheaper than reading the block's open ones.
        answered = Item.objects.filter(
            project=project, pk__gte=block.first_id, pk__lte=block.last_id, remaining__lte=0
        ).values_list("pk", flat=True)
        closed = np.concatenate([np.fromiter(answered, np.int64), payload["labeled_ids"]])
        rows = np.flatnonzero(~np.isin(ids, closed))
        pool = len(rows)
    if pool:  # a block whose items are all answered has nothing to rank
        candidates = _chunk_candidates(model, payload, ids[rows], x[rows])
    path = score_chunk_path(model, index)
    storage_write(path, _chunk_bytes(candidates))
    chunk, _ = ScoreChunk.objects.get_or_create(
        model=model,
        index=index,
        defaults={"path": path, "rows": pool, "seconds": time.perf_counter() - started},
    )
    return chunk


def _chunks_load(model: LearnerModel) -> tuple[Candidates, int]:
    chunks = list(ScoreChunk.objects.filter(model=model).order_by("index"))
    missing = sorted(set(range(len(model.chunks))) - {chunk.index for chunk in chunks})
    if missing:
        raise ValidationError(f"Chunks {missing} of model {model.number} were not scored.", code="chunks")
    ids, scores, parts, audit, tail_ids, tail_scores = [], [], [], [], [], []
    for chunk in chunks:
        with default_storage.open(chunk.path, "rb") as handle:
            part = joblib.load(io.BytesIO(handle.read()))
        ids.append(part["ids"])
        scores.append(part["scores"])
        audit.append(part.get("audit", np.zeros(len(part["ids"]), dtype=bool)))  # files of older releases
        tail_ids.append(part.get("tail_ids", np.zeros(0, np.int64)))
        tail_scores.append(part.get("tail_scores", np.zeros(0)))
        if part["x"] is not None and part["x"].shape[0]:
            parts.append(part["x"])
    pool = sum(chunk.rows for chunk in chunks)
    if not ids:
        return Candidates(np.zeros(0, np.int64), np.zeros(0), None, np.zeros(0, dtype=bool)), 0
    x = stack(parts) if parts else None
    found = Candidates(np.concatenate(ids), np.concatenate(scores), x, np.concatenate(audit),
                       tail_ids=np.concatenate(tail_ids), tail_scores=np.concatenate(tail_scores))  # fmt: skip
    return found, pool


def _beyond_window(found: Candidates, taken: npt.NDArray[np.int64], count: int) -> npt.NDArray[np.int64]:
    """The ids of the `count` best-ranked items after the window: the chunks' candidates that did not make
    it (`taken`: the rows already in the queue's order) and the chunks' tails, by score."""
    if count <= 0:
        return np.zeros(0, np.int64)
    left = np.flatnonzero(~found.audit)
    left = left[~np.isin(left, taken)]
    ids = np.concatenate([found.ids[left], found.tail_ids])
    scores = np.concatenate([found.scores[left], found.tail_scores])
    return ids[np.argsort(-scores, kind="stable")[:count]].astype(np.int64)


# Rows whose priority one transaction writes: the labeling queue skips locked rows, so each batch holds its
# locks only for the milliseconds its UPDATE takes (the queue waits for them only when nothing else is open).
PRIORITY_BATCH = 100


def suggestions_write(*, model: LearnerModel, learner: Any, ids: npt.NDArray[np.int64], x: Matrix) -> int:
    """Stores the model's answer on each of these items (the queue's front), so that the labeling hot path
    reads the suggestion with the item instead of computing it per request. In small batches, like the
    priorities."""
    if not len(ids):
        return 0
    proba = probabilities_full(learner.model, x, len(model.labels))
    best = proba.argmax(axis=1)
    items = [
        Item(pk=int(item), suggested_label=model.labels[int(label)], suggested_confidence=round(float(p), 4),
             suggested_by=model.number)
        for item, label, p in zip(ids.tolist(), best.tolist(), proba.max(axis=1).tolist(), strict=True)
    ]  # fmt: skip
    for start in range(0, len(items), PRIORITY_BATCH):
        Item.objects.bulk_update(
            items[start : start + PRIORITY_BATCH], ["suggested_label", "suggested_confidence", "suggested_by"]
        )
    return len(items)


def suggestions_refresh(*, model: LearnerModel) -> int:
    """Suggestions were turned on: the latest model answers for the items at the queue's front now, rather
    than at the next retrain."""
    if not model.path:
        return 0
    if model.project.is_spans:
        front_ids = Item.objects.filter(project=model.project, remaining__gt=0, priority__gt=0)
        window = window_size(learner_settings_get(project=model.project))
        return span_suggestions_refresh(
            model=model,
            front=list(front_ids.order_by("-priority", "id").values_list("pk", flat=True)[:window]),
        )
    payload = model_payload_load(model.path)
    learner = payload["learner"]
    if learner is None:
        return 0
    front = list(
        Item.objects.filter(project=model.project, remaining__gt=0, priority__gt=0)
        .order_by("-priority", "id")
        .values_list("pk", "text", "metadata")[: window_size(learner_settings_get(project=model.project))]
    )
    if not front:
        return 0
    ids = np.array([pk for pk, _, _ in front], dtype=np.int64)
    x = stack([item_features(model.features, text, metadata, payload["idf"]) for _, text, metadata in front])
    return suggestions_write(model=model, learner=learner, ids=ids, x=x)


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


def _batch(
    model: LearnerModel, settings: LearnerSettings, payload: dict[str, Any], found: Candidates,
    window: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:  # fmt: skip
    """The rows of `found` that make the batch: diverse where the strategy says so, and for the adaptive
    strategy the audit draws in the share its evidence set."""
    x: Any = found.x
    learner = payload["learner"]
    if model.strategy == Strategy.ADAPTIVE:
        share = Evidence(**payload.get("evidence") or {}).exploit_share  # files of older releases have none
        audit = np.flatnonzero(found.audit)
        audit = audit[np.argsort(-found.scores[audit], kind="stable")]
        n_audit, n_chosen = batch_sizes(settings.batch_size, share, len(audit), len(window))
        chosen = window[:0]
        if n_chosen and learner is None:
            chosen = window[diverse_select(x[window], n_chosen, seed=model.number)]
        elif n_chosen:
            chosen = window[cluster_select(found.scores[window], x[window], n_chosen, seed=model.number)]
        return batch_compose(chosen, audit[:n_audit])
    if learner is None and model.strategy != Strategy.RANDOM:
        return window[diverse_select(x[window], settings.batch_size, seed=model.number)]
    return window[batch_select(model.strategy, found.scores[window], x[window], settings.batch_size,
                               payload["labeled_x"], seed=model.number)]  # fmt: skip


def learner_model_finish(*, model: LearnerModel) -> LearnerModel:
    """Merges the chunks' candidates, picks the batch (diverse where the strategy says so, with the audit
    share for the adaptive strategy) and writes the queue priorities: the batch first, then the rest of the
    window by score."""
    try:
        started = time.perf_counter()
        settings = learner_settings_get(project=model.project)
        if model.project.is_spans:
            return _span_finish(model, settings, started)
        payload = model_payload_load(model.path)
        found, pool = _chunks_load(model)
        ranked = np.flatnonzero(~found.audit)
        window = ranked[np.argsort(-found.scores[ranked], kind="stable")][: window_size(settings)]
        ordered = found.ids[window]
        rows = window
        if found.x is not None and len(found.ids):
            batch = _batch(model, settings, payload, found, window)
            rest = window[~np.isin(window, batch)]
            # The audit draws after the batch's: next in the queue once the window is done, in draw order.
            draws = np.flatnonzero(found.audit & ~np.isin(np.arange(len(found.ids)), batch))
            draws = draws[np.argsort(-found.scores[draws], kind="stable")][: settings.batch_size]
            rows = np.concatenate([batch, rest, draws])
            ordered = found.ids[rows]
            if settings.show_suggestions and payload["learner"] is not None:
                suggestions_write(model=model, learner=payload["learner"], ids=ordered, x=found.x[rows])
        # Then the items ranked beyond the window, for the answers expected until the next model lands.
        planned = window_planned(model=model, settings=settings, now=timezone.now())
        beyond = _beyond_window(found, rows, planned - len(window))
        ordered = np.concatenate([ordered, beyond])
        written = priorities_write(project=model.project, ordered_ids=ordered)
        return _succeeded(model, pool, written, started, window=planned)
    except Exception:
        learner_model_fail(model_id=model.pk, error=traceback.format_exc())
        raise


def _succeeded(
    model: LearnerModel, pool: int, written: int, started: float, *, window: int = 0
) -> LearnerModel:
    seconds = {**model.seconds, "score_chunks": round(sum(
        ScoreChunk.objects.filter(model=model).values_list("seconds", flat=True)), 3),
        "finish": round(time.perf_counter() - started, 3)}  # fmt: skip
    LearnerModel.objects.filter(pk=model.pk).update(
        status=ModelStatus.SUCCEEDED, pool_size=pool, prioritized=written, window=window, seconds=seconds,
        finished_at=timezone.now(), error="",
    )  # fmt: skip
    model.refresh_from_db()
    return model


def _span_finish(model: LearnerModel, settings: LearnerSettings, started: float) -> LearnerModel:
    """A span project's finish: the queue's new front (services.span_training.span_order), its priorities
    and, where suggestions are shown, the tagger's spans on those items."""
    found, pool = span_order(model=model, settings=settings, window=window_size(settings))
    if settings.show_suggestions:
        span_suggestions_write(model=model, found=found)
    written = priorities_write(project=model.project, ordered_ids=found.ids)
    return _succeeded(model, pool, written, started)


def learner_model_run_inline(*, model: LearnerModel) -> LearnerModel:
    """Every step of a retrain in this process (the benchmark and the embedded default's eager tasks use
    the same steps the workers run)."""
    for kind, first_id, last_id in features_missing(model=model):
        feature_range_build(model=model, kind=kind, first_id=first_id, last_id=last_id)
    model = learner_model_train(model=model)
    for index in range(len(model.chunks)):
        score_chunk_compute(model=model, index=index)
    return learner_model_finish(model=model)
