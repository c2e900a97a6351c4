"""Reads of the active-learning app: models, the learning curve, simulations and the model's suggestion."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import joblib
import numpy as np
import numpy.typing as npt
from django.core.files.storage import default_storage
from django.db.models import QuerySet

from active_learning.choices import ModelStatus
from active_learning.models import LearnerModel, LearnerSettings, Simulation
from active_learning.span_evaluation import SpanData
from active_learning.tagger import Text
from core.exceptions import NotFoundError
from core.queries import filter_ids
from core.spans import SpanDict, spans_sorted, token_offsets_of
from features.choices import FeatureKind
from features.classifiers import hash_uniform
from features.services.cache import features_get, hstack_features, stored_kinds
from features.vectors import Matrix, block_compute, block_text, weigh
from labeling.models import Annotation, EvaluationLabel, GoldLabel
from labeling.selectors.gold import gold_labels_usable, truth_labels
from projects.choices import Split
from projects.models import Item, Project
from weak_supervision.selectors import latest_run, run_probabilities_get

logger = logging.getLogger(__name__)

CURVE_METRICS = ("accuracy", "macro_f1", "brier")
SPAN_CURVE_METRICS = ("span_f1", "span_precision", "span_recall")
# Weak labels trained on at most: more adds seconds to every retrain and little to a linear model.
WEAK_SAMPLE = 20_000
HOLDOUT_SHARE = 0.2  # of gold items held out for metrics when the project has no test or validation split
MIN_HELDOUT = 10


def learner_model_list(*, project: Project) -> QuerySet[LearnerModel]:
    return LearnerModel.objects.filter(project=project).order_by("-number")


def learner_model_get(*, project: Project, number: int) -> LearnerModel:
    model = learner_model_list(project=project).filter(number=number).first()
    if model is None:
        raise NotFoundError(f"Model {number} not found in this project.")
    return model


def learner_model_latest(*, project: Project) -> LearnerModel | None:
    return learner_model_list(project=project).filter(status=ModelStatus.SUCCEEDED).first()


def learning_curve(*, project: Project) -> dict[str, Any]:
    """Held-out metrics against the number of human labels, one point per trained model version."""
    names = SPAN_CURVE_METRICS if project.is_spans else CURVE_METRICS
    points = []
    models = learner_model_list(project=project).filter(status=ModelStatus.SUCCEEDED).order_by("number")
    for model in models:
        if not model.metrics.get("n_heldout"):
            continue
        points.append({
            "model": model.number, "n_labels": model.n_labels, "n_weak": model.n_weak,
            "n_heldout": model.metrics["n_heldout"], "created_at": model.created_at.isoformat(),
            **{name: model.metrics.get(name) for name in names},
        })  # fmt: skip
    return {"metrics": list(names), "points": points}


def queue_head(*, project: Project, limit: int) -> list[dict[str, Any]]:
    """The open items the labeling queue hands out first (its own order: priority, then import order)."""
    items = Item.objects.filter(project=project, remaining__gt=0).order_by("-priority", "id")
    return [dict(row) for row in items.values("pk", "external_id", "text", "priority")[:limit]]


def simulation_list(*, project: Project) -> QuerySet[Simulation]:
    return Simulation.objects.filter(project=project).order_by("-created_at", "-pk")


def simulation_get(*, project: Project, simulation_id: int) -> Simulation:
    simulation = simulation_list(project=project).filter(pk=simulation_id).first()
    if simulation is None:
        raise NotFoundError("Simulation not found in this project.")
    return simulation


def model_payload_load(path: str) -> dict[str, Any]:
    """A trained model's file: the fitted learner, its IDF weights, labels and labeled items' features."""
    with default_storage.open(path, "rb") as handle:
        payload: dict[str, Any] = joblib.load(io.BytesIO(handle.read()))
    return payload


@lru_cache(maxsize=8)
def _payload(path: str) -> dict[str, Any]:
    # Models never change once written (a retrain writes a new file), so caching by path is safe.
    return model_payload_load(path)


def item_features(kind: str, text: str, metadata: Any, idf: npt.NDArray[np.float32] | None) -> Matrix:
    """One item's features of `kind`, as the classifier saw them (a feature set's parts side by side)."""
    parts = [
        weigh(
            block_compute(part, [block_text(part, text, metadata)]),
            idf if part == FeatureKind.HASHED_TFIDF else None,
        )
        for part in stored_kinds(kind)
    ]
    return hstack_features(parts)


def weak_doubt_get(project: Project, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float64] | None:
    """How unsure the latest label model is of each item: 1 - its confidence; most unsure where no LF voted."""
    run = latest_run(project=project)
    loaded = run_probabilities_get(run=run) if run is not None else None
    if loaded is None:
        return None
    run_ids, probabilities, covered = loaded
    doubt = np.where(covered, 1.0 - probabilities.max(axis=1), 1.0 - 1.0 / max(probabilities.shape[1], 1))
    positions = np.minimum(np.searchsorted(run_ids, ids), max(len(run_ids) - 1, 0))
    known = (len(run_ids) > 0) & (run_ids[positions] == ids) if len(run_ids) else np.zeros(len(ids), bool)
    result: npt.NDArray[np.float64] = np.where(known, doubt[positions], doubt.max(initial=0.5)).astype(
        np.float64
    )
    return result


# --- what a retrain fits on ------------------------------------------------------------------------------------
@dataclass
class TrainingSet:
    """What a retrain fits on (usable gold labels, and weak labels if chosen) and what it is measured on."""

    ids: npt.NDArray[np.int64]
    x: Matrix | None
    y: npt.NDArray[np.int64]
    weights: npt.NDArray[np.float64]
    human: npt.NDArray[np.bool_]  # rows of gold labels (the others are weak)
    n_weak: int
    weak_run: int | None
    labeled_ids: npt.NDArray[np.int64]  # every item with a usable gold label: they leave the pool
    scoring: tuple[npt.NDArray[np.int64], Matrix | None, npt.NDArray[np.int64]]  # ids, x, y held out


def _scored_items(project: Project) -> list[int]:
    """The project's test and validation items (their known answers measure a retrain)."""
    items = Item.objects.filter(project=project, split__in=[Split.TEST, Split.VALID])
    return list(items.values_list("pk", flat=True).iterator(chunk_size=20_000))


def _heldout(project: Project, usable: dict[int, str]) -> tuple[set[int], dict[int, str]]:
    """(usable gold items kept out of training, the held-out items' answers to score on).

    Where the project has test or validation items with a known answer (gold, or evaluation-only), those
    are scored on, and its validation items' gold labels do not train; else a fixed fifth of the usable gold
    items (by a hash of their id) is held out and scored on its gold labels. Scores are only shown: nothing
    is chosen from them."""
    truth = truth_labels(project=project, item_ids=_scored_items(project))
    if truth:
        return set(usable).intersection(truth), truth
    if len(usable) < MIN_HELDOUT / HOLDOUT_SHARE:
        return set(), {}
    ids = np.asarray(sorted(usable), dtype=np.int64)
    held = set(ids[hash_uniform(ids, f"holdout:{project.pk}") < HOLDOUT_SHARE].tolist())
    return held, {item: usable[item] for item in held}


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


def training_set_get(
    *, model: LearnerModel, settings: LearnerSettings, idf: npt.NDArray[np.float32] | None, kind: str = ""
) -> TrainingSet:
    """What a retrain of `model` fits on and is measured on, its features (of `kind`, else the model's set)
    loaded (the cache complete)."""
    project = model.project
    kind = kind or model.features
    index = {key: position for position, key in enumerate(model.labels)}
    usable = {item: key for item, key in gold_labels_usable(project=project).items() if key in index}
    held, answers = _heldout(project, usable)
    gold = {item: key for item, key in usable.items() if item not in held}
    weak: dict[int, tuple[int, float]] = {}
    weak_run = None
    if settings.use_weak_labels:  # never for an item with a known answer (held-out ones included)
        weak, weak_run = _weak_labels(project, settings, model.labels, set(usable) | set(answers))
    ids, x = features_get(project=project, kind=kind, item_ids=[*gold, *weak], idf=idf)
    human = np.asarray([i in gold for i in ids.tolist()], dtype=bool)
    y = np.asarray([index[gold[i]] if i in gold else weak[i][0] for i in ids.tolist()], dtype=np.int64)
    weights = np.asarray([1.0 if i in gold else weak[i][1] for i in ids.tolist()], dtype=np.float64)
    scored = {item: index[key] for item, key in answers.items() if key in index}
    score_ids, score_x = features_get(project=project, kind=kind, item_ids=scored, idf=idf)
    score_y = np.asarray([scored[i] for i in score_ids.tolist()], dtype=np.int64)
    return TrainingSet(
        ids=ids, x=x, y=y, weights=weights, human=human, n_weak=int(np.sum(~human)), weak_run=weak_run,
        labeled_ids=np.fromiter(usable, dtype=np.int64, count=len(usable)),
        scoring=(score_ids, score_x, score_y),
    )  # fmt: skip


# --- span projects -------------------------------------------------------------------------------------------


def _span_key(spans: list[SpanDict]) -> tuple[tuple[int, int, str], ...]:
    return tuple(sorted((int(span["start"]), int(span["end"]), str(span["label"])) for span in spans))


def gold_spans(*, project: Project, item_ids: Iterable[int] | None = None) -> dict[int, list[SpanDict]]:
    """Item id to its spans, for items whose annotations (imported or human) all mark the same spans, with
    an adjudicated or known answer (GoldLabel.spans) winning over them: gold_labels' rule, for spans. An
    answer of no spans ("no entities") is an answer."""
    wanted = None if item_ids is None else list(item_ids)
    annotations = Annotation.objects.filter(project=project)
    if wanted is not None:
        annotations = filter_ids(annotations, "item_id", wanted)
    found: dict[int, list[SpanDict]] = {}
    keys: dict[int, tuple[tuple[int, int, str], ...]] = {}
    disputed: set[int] = set()
    for item_id, spans in annotations.values_list("item_id", "spans").iterator(chunk_size=5000):
        key = _span_key(spans or [])
        if keys.setdefault(item_id, key) != key:
            disputed.add(item_id)
        found.setdefault(item_id, spans_sorted(spans or []))
    for item_id in disputed:
        del found[item_id]
    decided = GoldLabel.objects.filter(project=project)
    if wanted is not None:
        decided = filter_ids(decided, "item_id", wanted)
    for item_id, spans in decided.values_list("item_id", "spans").iterator(chunk_size=5000):
        found[item_id] = spans_sorted(spans or [])
    return found


def gold_spans_usable(*, project: Project) -> dict[int, list[SpanDict]]:
    """The gold spans that may train or select anything: none of the test split."""
    found = gold_spans(project=project)
    tests = Item.objects.filter(project=project, split=Split.TEST).values_list("pk", flat=True)
    for item_id in set(found).intersection(tests.iterator(chunk_size=20_000)):
        del found[item_id]
    return found


def truth_spans(*, project: Project, item_ids: Iterable[int] | None = None) -> dict[int, list[SpanDict]]:
    """What scores: every item's gold spans, and evaluation-only spans in their items' place."""
    wanted = None if item_ids is None else list(item_ids)
    found = gold_spans(project=project, item_ids=wanted)
    rows = EvaluationLabel.objects.filter(project=project)
    if wanted is not None:
        rows = filter_ids(rows, "item_id", wanted)
    for item_id, spans in rows.values_list("item_id", "spans").iterator(chunk_size=20_000):
        found[item_id] = spans_sorted(spans or [])
    return found


def span_texts_get(*, project: Project, item_ids: Iterable[int]) -> dict[int, Text]:
    """Each item's text and its tokens (the import's, else the platform tokenizer's)."""
    items = filter_ids(Item.objects.filter(project=project), "pk", item_ids)
    return {
        pk: (text, token_offsets_of(text, offsets))
        for pk, text, offsets in items.values_list("pk", "text", "token_offsets").iterator(chunk_size=5000)
    }


def span_data_get(*, project: Project, answers: dict[int, list[SpanDict]]) -> SpanData:
    """These items' texts and tokens beside their spans, in item id order."""
    texts = span_texts_get(project=project, item_ids=answers)
    ids = np.asarray(sorted(texts), dtype=np.int64)
    return SpanData([texts[i] for i in ids.tolist()], [answers[i] for i in ids.tolist()], ids)


@dataclass
class SpanTrainingSet:
    """What a span project's retrain fits on (usable gold spans), what it is measured on, and every item
    with usable gold spans (they leave the pool)."""

    train: SpanData
    heldout: SpanData
    labeled_ids: npt.NDArray[np.int64]


def span_training_set_get(*, project: Project) -> SpanTrainingSet:
    """`training_set_get` for span projects: usable gold spans train, except those of held-out items (the
    test and validation splits' items with known spans, else a fixed fifth of the gold items)."""
    usable = gold_spans_usable(project=project)
    truth = truth_spans(project=project, item_ids=_scored_items(project))
    if not truth and len(usable) >= MIN_HELDOUT / HOLDOUT_SHARE:
        ids = np.asarray(sorted(usable), dtype=np.int64)
        held = ids[hash_uniform(ids, f"holdout:{project.pk}") < HOLDOUT_SHARE].tolist()
        truth = {item: usable[item] for item in held}
    train = {item: spans for item, spans in usable.items() if item not in truth}
    return SpanTrainingSet(
        train=span_data_get(project=project, answers=train), heldout=span_data_get(project=project, answers=truth),
        labeled_ids=np.fromiter(usable, dtype=np.int64, count=len(usable)),
    )  # fmt: skip
