"""Active learning's FilterSets read alike by the learner page and the API (core.filtersets)."""

from __future__ import annotations

import pytest

from active_learning.choices import ModelStatus, SimulationStatus
from active_learning.models import LearnerModel, Simulation
from projects.models import Project
from tests.doors import doors_of
from tests.projects.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def _model(project: Project, number: int, status: str) -> LearnerModel:
    return LearnerModel.objects.create(
        project=project, number=number, status=status, strategy="margin", features="hashed_tfidf"
    )


def _simulation(project: Project, status: str) -> Simulation:
    return Simulation.objects.create(project=project, strategies=["random"], budget=10, step=5, status=status)


def test_models_and_simulations_same_rows_on_page_and_api() -> None:
    # given
    project = ProjectFactory()
    client, api_client = doors_of(project)
    _model(project, 1, ModelStatus.FAILED)
    _model(project, 2, ModelStatus.SUCCEEDED)
    failed = _simulation(project, SimulationStatus.FAILED)
    finished = _simulation(project, SimulationStatus.SUCCEEDED)
    base = f"/api/projects/{project.slug}/active-learning"

    # when
    page = client.get(f"/projects/{project.slug}/active-learning/?status=failed")
    models = api_client.get(f"{base}/models/?status=failed")
    simulations = api_client.get(f"{base}/simulations/?status=failed")

    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="model-1"' in html
    assert 'id="model-2"' not in html
    assert f'id="simulation-{failed.pk}"' in html
    assert f'id="simulation-{finished.pk}"' not in html
    assert [row["number"] for row in models.json()["results"]] == [1]
    assert [row["id"] for row in simulations.json()["results"]] == [failed.pk]


def test_models_bad_value_refused_on_page_and_api() -> None:
    # given
    project = ProjectFactory()
    client, api_client = doors_of(project)
    _model(project, 1, ModelStatus.FAILED)

    # when
    page = client.get(f"/projects/{project.slug}/active-learning/?trigger=whim")
    api = api_client.get(f"/api/projects/{project.slug}/active-learning/models/?trigger=whim")

    # then
    assert api.status_code == 400
    assert "trigger" in api.json()
    assert page.status_code == 200
    assert "trigger:" in page.content.decode()
    assert 'id="model-1"' not in page.content.decode()


def test_simulations_bad_value_refused_on_page_and_api() -> None:
    # given
    project = ProjectFactory()
    client, api_client = doors_of(project)
    simulation = _simulation(project, SimulationStatus.FAILED)

    # when
    page = client.get(f"/projects/{project.slug}/active-learning/?status=training")
    api = api_client.get(f"/api/projects/{project.slug}/active-learning/simulations/?status=training")

    # then
    assert api.status_code == 400
    assert "status" in api.json()
    assert page.status_code == 200
    assert "status:" in page.content.decode()
    assert f'id="simulation-{simulation.pk}"' not in page.content.decode()
