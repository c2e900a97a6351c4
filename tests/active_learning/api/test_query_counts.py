"""Query-count guards: the active-learning API's lists and details run as many queries for 23 rows as for 3."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import Max
from rest_framework.test import APIClient

from active_learning.choices import ModelStatus
from active_learning.models import LearnerModel, Simulation
from projects.choices import Role
from projects.models import Membership, Project
from tests.projects.factories import UserFactory
from tests.query_counts import assert_queries_do_not_grow, results

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> APIClient:
    return api_client_for(member_factory(project, Role.OWNER).user)


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


def test_the_model_list_does_not_grow_with_models(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    _models(project, 3)

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/active-learning/models/", lambda n: _models(project, n),
        django_assert_max_num_queries, rows=results,
    )  # fmt: skip


def test_the_model_detail_does_not_grow_with_the_projects_models(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    _models(project, 3)

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/active-learning/models/2/", lambda n: _models(project, n),
        django_assert_max_num_queries,
    )  # fmt: skip


def test_the_learning_curve_does_not_grow_with_models(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    _models(project, 3)

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/active-learning/curve/", lambda n: _models(project, n),
        django_assert_max_num_queries, rows=lambda response: len(response.data["points"]),
    )  # fmt: skip


def test_the_simulation_list_does_not_grow_with_simulations(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    _simulations(project, 3)

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/active-learning/simulations/",
        lambda n: _simulations(project, n), django_assert_max_num_queries, rows=results,
    )  # fmt: skip


def test_the_simulation_detail_does_not_grow_with_the_projects_simulations(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    simulation = _simulations(project, 3)[0]

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/active-learning/simulations/{simulation.pk}/",
        lambda n: _simulations(project, n), django_assert_max_num_queries,
    )  # fmt: skip


def test_the_settings_do_not_grow_with_models(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    _models(project, 3)

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/active-learning/settings/", lambda n: _models(project, n),
        django_assert_max_num_queries,
    )  # fmt: skip
