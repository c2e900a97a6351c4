"""Weak supervision's FilterSets read alike by their pages and their API (core.filtersets)."""

from __future__ import annotations

import pytest

from tests.doors import doors_of
from tests.projects.factories import ProjectFactory
from tests.weak_supervision.factories import keyword_lf
from weak_supervision.choices import RunStatus
from weak_supervision.models import LabelModelRun

pytestmark = pytest.mark.django_db


def test_labeling_functions_same_rows_on_page_and_api() -> None:
    # given
    project = ProjectFactory()
    client, api_client = doors_of(project)
    keyword_lf(project, "prize_words", "spam", "prize")
    keyword_lf(project, "home_words", "ham", "home")

    # when
    page = client.get(f"/projects/{project.slug}/labeling-functions/?q=prize&kind=keyword&active=true")
    api = api_client.get(f"/api/projects/{project.slug}/labeling-functions/?q=prize&kind=keyword&active=true")

    # then
    assert page.status_code == 200
    assert "prize_words" in page.content.decode()
    assert "home_words" not in page.content.decode()
    assert [row["name"] for row in api.json()["results"]] == ["prize_words"]


def test_labeling_functions_bad_value_refused_on_page_and_api() -> None:
    # given
    project = ProjectFactory()
    client, api_client = doors_of(project)
    keyword_lf(project, "prize_words", "spam", "prize")

    # when
    page = client.get(f"/projects/{project.slug}/labeling-functions/?kind=magic")
    api = api_client.get(f"/api/projects/{project.slug}/labeling-functions/?kind=magic")

    # then
    assert api.status_code == 400
    assert "kind" in api.json()
    assert page.status_code == 200
    assert "has-error" in page.content.decode()
    assert "prize_words" not in page.content.decode()


def test_runs_same_rows_on_page_and_api() -> None:
    # given
    project = ProjectFactory()
    client, api_client = doors_of(project)
    LabelModelRun.objects.create(project=project, number=7, status=RunStatus.FAILED)
    LabelModelRun.objects.create(project=project, number=8, status=RunStatus.SUCCEEDED)

    # when
    page = client.get(f"/projects/{project.slug}/runs/?status=failed")
    fragment = client.get(f"/projects/{project.slug}/runs/?status=failed", headers={"HX-Request": "true"})
    api = api_client.get(f"/api/projects/{project.slug}/runs/?status=failed")

    # then
    assert page.status_code == 200
    assert "#7" in page.content.decode()
    assert "#8" not in page.content.decode()
    assert 'id="runs"' in fragment.content.decode()
    assert "#8" not in fragment.content.decode()
    assert [row["number"] for row in api.json()["results"]] == [7]


def test_runs_bad_value_refused_on_page_and_api() -> None:
    # given
    project = ProjectFactory()
    client, api_client = doors_of(project)
    LabelModelRun.objects.create(project=project, number=7, status=RunStatus.FAILED)

    # when
    page = client.get(f"/projects/{project.slug}/runs/?status=exploded")
    api = api_client.get(f"/api/projects/{project.slug}/runs/?status=exploded")

    # then
    assert api.status_code == 400
    assert "status" in api.json()
    assert page.status_code == 200
    assert "has-error" in page.content.decode()
    assert "#7" not in page.content.decode()
