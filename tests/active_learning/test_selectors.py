"""The active-learning reads: models, the learning curve, the queue head, simulations and the suggestion."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from active_learning.choices import ModelStatus
from active_learning.models import LearnerModel, Simulation
from active_learning.selectors import (
    CURVE_METRICS,
    learner_model_get,
    learner_model_latest,
    learner_model_list,
    learning_curve,
    queue_head,
    simulation_get,
    simulation_list,
    weak_doubt_get,
)
from active_learning.services.training import learner_settings_update
from core.exceptions import NotFoundError
from projects.models import Item, Project
from tests.active_learning.factories import new_item, new_project
from tests.weak_supervision.factories import keyword_lf
from weak_supervision.services.runs import run_start

pytestmark = pytest.mark.django_db
Retrain = Callable[..., LearnerModel]


def _model(project: Project, number: int, status: str = ModelStatus.SUCCEEDED, **fields: Any) -> LearnerModel:
    return LearnerModel.objects.create(
        project=project, number=number, status=status, strategy="margin", features="hashed_tfidf", **fields
    )


def test_models_are_listed_newest_first_and_the_latest_is_the_newest_succeeded() -> None:
    # given
    project = new_project()
    first = _model(project, 1)
    second = _model(project, 2)
    _model(project, 3, ModelStatus.FAILED)
    _model(new_project(), 4)  # another project's

    # when
    listed = list(learner_model_list(project=project))

    # then
    assert [model.number for model in listed] == [3, 2, 1]
    assert learner_model_latest(project=project) == second
    assert learner_model_get(project=project, number=1) == first
    with pytest.raises(NotFoundError, match="Model 4 not found in this project."):
        learner_model_get(project=project, number=4)
    assert learner_model_latest(project=new_project()) is None


def test_the_learning_curve_has_a_point_per_succeeded_model_measured_on_held_out_items() -> None:
    # given
    project = new_project()
    _model(project, 2, n_labels=20, n_weak=5, metrics={"n_heldout": 4, "accuracy": 0.75, "macro_f1": 0.7})
    _model(project, 1, n_labels=10, metrics={"n_heldout": 2, "accuracy": 0.5, "brier": 0.3})
    _model(project, 3, metrics={})  # nothing held out: no point
    _model(project, 4, ModelStatus.FAILED, metrics={"n_heldout": 9})
    _model(new_project(), 1, metrics={"n_heldout": 9, "accuracy": 1.0})

    # when
    curve = learning_curve(project=project)

    # then
    assert curve["metrics"] == list(CURVE_METRICS)
    assert [
        (p["model"], p["n_labels"], p["n_weak"], p["n_heldout"], p["accuracy"], p["macro_f1"], p["brier"])
        for p in curve["points"]
    ] == [(1, 10, 0, 2, 0.5, None, 0.3), (2, 20, 5, 4, 0.75, 0.7, None)]


def test_the_queue_head_is_the_open_items_by_priority_then_import_order() -> None:
    # given
    project = new_project()
    low = new_item(project=project, priority=0.1)
    high = new_item(project=project, priority=0.9)
    tie = new_item(project=project, priority=0.1)
    new_item(project=project, priority=5.0, remaining=0)  # done
    new_item(priority=9.0)  # another project's

    # when
    head = queue_head(project=project, limit=2)

    # then
    assert head == [
        {"pk": high.pk, "external_id": high.external_id, "text": high.text, "priority": 0.9},
        {"pk": low.pk, "external_id": low.external_id, "text": low.text, "priority": 0.1},
    ]
    assert [row["pk"] for row in queue_head(project=project, limit=10)] == [high.pk, low.pk, tie.pk]


def test_simulations_are_listed_newest_first_and_only_the_projects_own() -> None:
    # given
    project = new_project()
    older = Simulation.objects.create(project=project, strategies=["random"], budget=10, step=5)
    newer = Simulation.objects.create(project=project, strategies=["margin"], budget=10, step=5)
    other = Simulation.objects.create(project=new_project(), strategies=["random"], budget=10, step=5)

    # then
    assert list(simulation_list(project=project)) == [newer, older]
    assert simulation_get(project=project, simulation_id=older.pk) == older
    with pytest.raises(NotFoundError, match="Simulation not found in this project."):
        simulation_get(project=project, simulation_id=other.pk)


def test_a_retrain_stores_its_suggestions_on_the_queue_front_only_where_the_project_shows_them(
    corpus_project: Callable[..., Project], retrain: Retrain
) -> None:
    # given a project without suggestions, then the same with them
    hidden_project = corpus_project(items=40, gold=30)
    shown_project = corpus_project(items=40, gold=30)
    learner_settings_update(project=shown_project, show_suggestions=True)

    # when each retrains
    retrain(hidden_project)
    model = retrain(shown_project)

    # then only the second's items carry the model's answer, each the label it gives with its confidence
    assert model.status == ModelStatus.SUCCEEDED, model.error
    assert not Item.objects.filter(project=hidden_project).exclude(suggested_label="").exists()
    front = Item.objects.filter(project=shown_project, remaining__gt=0, priority__gt=0)
    assert front.exists()
    for item in front:
        assert item.suggested_label in {"ham", "spam"}
        assert item.suggested_by == model.number
        assert item.suggested_confidence is not None
        assert 0.5 <= item.suggested_confidence <= 1.0


def test_turning_suggestions_on_writes_them_from_the_latest_model_and_off_takes_them_away(
    corpus_project: Callable[..., Project], retrain: Retrain, django_capture_on_commit_callbacks: Any
) -> None:
    # given a trained model, suggestions off
    project = corpus_project(items=40, gold=30)
    model = retrain(project)
    assert not Item.objects.filter(project=project).exclude(suggested_label="").exists()

    # when they are turned on, then off
    with django_capture_on_commit_callbacks(execute=True):
        learner_settings_update(project=project, show_suggestions=True)
    on = Item.objects.filter(project=project).exclude(suggested_label="").count()
    learner_settings_update(project=project, show_suggestions=False)

    # then the latest model answered for the queue's front at once, and turning them off cleared them
    assert on > 0
    assert set(Item.objects.filter(project=project).values_list("suggested_by", flat=True)) == {None}
    assert model.number == 1


def test_weak_doubt_is_one_minus_the_label_models_confidence_and_none_without_a_run(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a finished run over items the LFs cover, and one they do not
    project = new_project()
    covered = [new_item(project=project, text=f"free prize {n}") for n in range(3)]
    covered += [new_item(project=project, text=f"at home {n}") for n in range(3)]
    uncovered = new_item(project=project, text="nothing to say")
    keyword_lf(project, "prize", "spam", "prize")
    keyword_lf(project, "home", "ham", "home")
    keyword_lf(project, "free", "spam", "free")
    ids = np.asarray(sorted(item.pk for item in [*covered, uncovered]), dtype=np.int64)
    before = weak_doubt_get(project, ids)
    with django_capture_on_commit_callbacks(execute=True):
        run_start(project=project, user=None)

    # when
    doubt = weak_doubt_get(project, ids)

    # then
    assert before is None
    assert doubt is not None
    by_id = dict(zip(ids.tolist(), doubt.tolist(), strict=True))
    assert by_id[uncovered.pk] == pytest.approx(0.5)  # no LF voted: as unsure as can be with two labels
    assert all(0.0 <= by_id[item.pk] < 0.5 for item in covered)
    assert weak_doubt_get(new_project(), ids) is None  # another project has no run
