"""Reads of the active-learning app: models, the learning curve, simulations and the model's suggestion."""

from __future__ import annotations

import io
import logging
from functools import lru_cache
from typing import Any

import joblib
import numpy as np
import numpy.typing as npt
from django.core.files.storage import default_storage
from django.db.models import QuerySet

from active_learning.choices import ModelStatus
from active_learning.models import LearnerModel, LearnerSettings, Simulation
from core.exceptions import NotFoundError
from features.classifiers import probabilities_full
from features.vectors import block_compute, weigh
from labeling.hooks import Suggestion
from projects.models import Item, Project
from weak_supervision.selectors import latest_run, run_probabilities_get

logger = logging.getLogger(__name__)

CURVE_METRICS = ("accuracy", "macro_f1", "brier")


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
    points = []
    models = learner_model_list(project=project).filter(status=ModelStatus.SUCCEEDED).order_by("number")
    for model in models:
        if not model.metrics.get("n_heldout"):
            continue
        points.append({
            "model": model.number, "n_labels": model.n_labels, "n_weak": model.n_weak,
            "n_heldout": model.metrics["n_heldout"], "created_at": model.created_at.isoformat(),
            **{name: model.metrics.get(name) for name in CURVE_METRICS},
        })  # fmt: skip
    return {"metrics": list(CURVE_METRICS), "points": points}


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


def suggestion_get(*, project: Project, item: Item) -> Suggestion | None:
    """The latest model's answer for an item, when the project shows suggestions and has a trained model."""
    settings = LearnerSettings.objects.filter(project=project).first()
    if settings is None or not settings.show_suggestions:
        return None
    model = learner_model_latest(project=project)
    if model is None or not model.path:
        return None
    try:
        payload = _payload(model.path)
    except FileNotFoundError:  # its file was removed (or not yet stored where this process reads): no hint
        logger.warning("The file of model %s of project %s is missing.", model.number, project.slug)
        return None
    learner = payload["learner"]
    if learner is None:
        return None
    x = weigh(block_compute(model.features, [item.text]), payload["idf"])
    proba = probabilities_full(learner.model, x, len(model.labels))[0]
    best = int(np.argmax(proba))
    key = model.labels[best]
    name = dict(project.labels.values_list("key", "name")).get(key, key)
    return Suggestion(label=key, name=name, confidence=round(float(proba[best]), 4), model=model.number)


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
