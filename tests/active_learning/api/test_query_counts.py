"""Query-count guards: the active-learning API's lists and details run as many queries for 23 rows as for 3."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db.models import Max

from active_learning.choices import ModelStatus
from active_learning.models import LearnerModel, Simulation
from projects.models import Project
from tests.projects.factories import UserFactory
from tests.query_counts import Case, endpoint_test, results

pytestmark = pytest.mark.django_db


def _models(project: Project, n: int) -> None:
    """n trained models by n users, each measured on held-out items (a point of the learning curve)."""
    last = LearnerModel.objects.filter(project=project).aggregate(n=Max("number"))["n"] or 0
    for index in range(n):
        LearnerModel.objects.create(
            project=project, number=last + index + 1, status=ModelStatus.SUCCEEDED, strategy="margin",
            features="hashed_tfidf", created_by=UserFactory(), n_labels=10 + index, labels=["ham", "spam"],
            metrics={"n_heldout": 4, "accuracy": 0.5, "macro_f1": 0.5, "brier": 0.25},
        )  # fmt: skip


def _simulations(project: Project, n: int) -> list[Simulation]:
    return [
        Simulation.objects.create(
            project=project, created_by=UserFactory(), strategies=["random", "margin"], budget=10, step=5
        )
        for _ in range(n)
    ]


def _first_of_three_simulations(project: Project, owner: User) -> Simulation:
    return _simulations(project, 3)[0]


# Each endpoint, given its first rows (three models or simulations)
test_the_endpoint_does_not_grow_with_its_rows = endpoint_test(
    Case("model-list", lambda project: f"/api/projects/{project.slug}/active-learning/models/", _models, rows=results),
    Case("model-detail", lambda project: f"/api/projects/{project.slug}/active-learning/models/2/", _models),
    Case(
        "learning-curve", lambda project: f"/api/projects/{project.slug}/active-learning/curve/", _models,
        rows=lambda response: len(response.data["points"]),
    ),
    Case(
        "simulation-list", lambda project: f"/api/projects/{project.slug}/active-learning/simulations/", _simulations,
        rows=results,
    ),
    Case(
        "simulation-detail",
        lambda simulation: f"/api/projects/{simulation.project.slug}/active-learning/simulations/{simulation.pk}/",
        lambda simulation, n: _simulations(simulation.project, n), given=_first_of_three_simulations,
    ),
    Case("settings", lambda project: f"/api/projects/{project.slug}/active-learning/settings/", _models),
)  # fmt: skip
