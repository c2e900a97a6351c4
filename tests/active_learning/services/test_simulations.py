from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from active_learning.choices import SimulationStatus, Strategy
from active_learning.models import Simulation
from active_learning.services.simulations import (
    ERROR_POOL,
    simulation_compute,
    simulation_create,
    strategies_parse,
)
from active_learning.services.training import learner_settings_update
from features.models import FeatureBlock
from projects.models import Project
from tests.active_learning.factories import new_user

pytestmark = pytest.mark.django_db


def test_a_simulation_run_now_compares_the_strategies(corpus_project: Callable[..., Project]) -> None:
    # given 40 gold items: 8 in the test split, 32 in the train split
    project = corpus_project(items=40, gold=40)
    learner_settings_update(project=project, strategy=Strategy.ENTROPY)
    user = new_user()

    # when
    simulation = simulation_create(project=project, user=user, strategies=["default", "random", "entropy"],
                                   budget=12, step=4, seeds=1, run_now=True)  # fmt: skip

    # then
    assert (simulation.status, simulation.error) == (SimulationStatus.SUCCEEDED, "")
    assert (simulation.strategies, simulation.created_by, simulation.metric) == (
        ["entropy", "random"],
        user,
        "accuracy",
    )
    assert simulation.finished_at is not None
    result = simulation.result
    assert sorted(result) == ["default", "full_train", "metric", "pool", "strategies", "test"]
    assert (result["default"], result["metric"], result["pool"], result["test"]) == (
        "entropy",
        "accuracy",
        32,
        8,
    )
    assert result["full_train"] == 1.0
    assert list(result["strategies"]) == ["entropy", "random"]
    for name in ("entropy", "random"):
        curve = result["strategies"][name]["curve"]
        assert [n for n, _ in curve] == [4, 8, 12]
        assert all(0.0 <= value <= 1.0 for _, value in curve)
        reached = [n for n, value in curve if value >= 0.95 * result["full_train"]]
        assert result["strategies"][name]["labels_to_95"] == (reached[0] if reached else None)


def test_a_simulation_runs_on_a_worker_once_committed(
    corpus_project: Callable[..., Project], django_capture_on_commit_callbacks: Any
) -> None:
    # given
    project = corpus_project(items=30, gold=30)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        simulation = simulation_create(project=project, user=None, strategies=["random"], budget=8, step=4,
                                       seeds=2, metric="f1:spam")  # fmt: skip
        assert simulation.status == SimulationStatus.PENDING

    # then
    simulation.refresh_from_db()
    assert simulation.status == SimulationStatus.SUCCEEDED, simulation.error
    assert simulation.result["metric"] == "f1:spam"
    assert [n for n, _ in simulation.result["strategies"]["random"]["curve"]] == [4, 8]
    assert (simulation.result["pool"], simulation.result["test"]) == (24, 6)


def test_strategies_parse_maps_default_to_the_projects_strategy(project: Project) -> None:
    learner_settings_update(project=project, strategy=Strategy.COMMITTEE)

    parsed = strategies_parse(project=project, names=[" default", "committee", "margin ", "default"])

    assert parsed == ["committee", "margin"]


@pytest.mark.parametrize(
    ("options", "code", "message"),
    [
        ({"strategies": ["nope"]}, "strategy", "Unknown strategy 'nope'; choose from: default, adaptive, "
         "uncertainty_diverse, uncertainty, margin, margin_diverse, entropy, committee, weak, diverse, random."),
        ({"strategies": []}, "strategy", "Name at least one strategy."),
        ({"budget": 10, "step": 20}, "budget",
         "The budget and the step must be positive, with the step at most the budget."),
        ({"budget": 0, "step": 0}, "budget",
         "The budget and the step must be positive, with the step at most the budget."),
        ({"budget": 2001, "step": 10}, "budget",
         "At most 200 points per curve: raise the step or lower the budget."),
        ({"seeds": 0}, "seeds", "Seeds must be between 1 and 10."),
        ({"seeds": 11}, "seeds", "Seeds must be between 1 and 10."),
        ({"metric": "f1:eggs"}, "metric",
         "Unknown metric 'f1:eggs': use accuracy, macro_f1 or f1:LABEL (a label of the project: ham, spam)."),
        ({"metric": "brier"}, "metric",
         "Unknown metric 'brier': use accuracy, macro_f1 or f1:LABEL (a label of the project: ham, spam)."),
    ],
)  # fmt: skip
def test_a_bad_simulation_is_refused_and_nothing_is_written(
    corpus_project: Callable[..., Project], options: dict[str, Any], code: str, message: str
) -> None:
    # given
    project = corpus_project(items=20, gold=20)
    request: dict[str, Any] = {"strategies": ["random"], "budget": 8, "step": 4, "seeds": 1, **options}

    # when
    with pytest.raises(ValidationError) as error:
        simulation_create(project=project, user=None, run_now=True, **request)

    # then
    assert (error.value.code, error.value.messages) == (code, [message])
    assert not Simulation.objects.exists()
    assert not FeatureBlock.objects.exists()


def test_a_multi_label_project_cannot_simulate(corpus_project: Callable[..., Project]) -> None:
    project = corpus_project(items=10, gold=0, multi_label=True)

    with pytest.raises(ValidationError) as error:
        simulation_create(project=project, user=None, strategies=["random"], budget=4, step=2, run_now=True)

    assert (error.value.code, error.value.messages) == (
        "multi_label",
        ["Simulations need a single-label project."],
    )
    assert not Simulation.objects.exists()


def test_a_pool_of_one_class_cannot_be_simulated(corpus_project: Callable[..., Project]) -> None:
    # given gold labels of a single class
    project = corpus_project(items=20, gold=10, gold_classes=("spam",))

    # when
    with pytest.raises(ValidationError) as error:
        simulation_compute(
            project=project, strategies=["random"], budget=4, step=2, seeds=1, metric="accuracy"
        )

    # then
    assert (error.value.code, error.value.messages) == (
        "pool",
        ["The simulation needs items with known answers of at least two classes in its pool (found 1)."],
    )


def test_a_simulation_of_a_pool_of_one_class_fails_with_the_reason(
    corpus_project: Callable[..., Project],
) -> None:
    # given
    project = corpus_project(items=20, gold=10, gold_classes=("spam",))

    # when
    simulation = simulation_create(project=project, user=None, strategies=["random"], budget=4, step=2,
                                   seeds=1, run_now=True)  # fmt: skip

    # then
    assert (simulation.status, simulation.result) == (SimulationStatus.FAILED, {})
    assert simulation.error == ERROR_POOL.format(found=1)
    assert simulation.finished_at is not None
    assert Simulation.objects.count() == 1


def test_a_project_without_gold_labels_cannot_be_simulated(corpus_project: Callable[..., Project]) -> None:
    project = corpus_project(items=10, gold=0)

    with pytest.raises(ValidationError) as error:
        simulation_compute(
            project=project, strategies=["random"], budget=4, step=2, seeds=1, metric="accuracy"
        )

    assert error.value.code == "pool"
    assert error.value.messages == [
        "The simulation needs items with known answers of at least two classes in its pool (found 0)."
    ]


def test_a_span_projects_simulation_replays_its_known_spans_as_curves_of_span_f1(
    span_project: Callable[..., Project],
) -> None:
    # given 40 annotated sentences: 10 in the test split, 30 in the train split
    project = span_project(items=40, gold=40, test_every=4)

    # when (the metric asked for does not apply: a span project's curves are of span F1)
    simulation = simulation_create(project=project, user=None, strategies=["default", "random"], budget=12, step=4,
                                   seeds=1, metric="accuracy", run_now=True)  # fmt: skip

    # then
    assert (simulation.status, simulation.error, simulation.metric) == (
        SimulationStatus.SUCCEEDED,
        "",
        "span_f1",
    )
    result = simulation.result
    assert (result["metric"], result["default"], result["pool"], result["test"]) == (
        "span_f1",
        "adaptive",
        30,
        10,
    )
    assert result["full_train"] == 1.0
    assert list(result["strategies"]) == ["adaptive", "random"]
    for name in ("adaptive", "random"):
        assert [n for n, _ in result["strategies"][name]["curve"]] == [4, 8, 12]


def test_a_span_projects_simulation_needs_known_spans_in_its_pool(
    span_project: Callable[..., Project],
) -> None:
    project = span_project(items=10, gold=0)

    with pytest.raises(ValidationError, match="known spans"):
        simulation_compute(
            project=project, strategies=["random"], budget=4, step=2, seeds=1, metric="span_f1"
        )
