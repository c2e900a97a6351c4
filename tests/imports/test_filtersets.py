"""ImportJobFilterSet read alike by the import page and the imports endpoint (core.filtersets)."""

from __future__ import annotations

import pytest

from projects.choices import ImportStatus
from projects.models import ImportJob
from tests.doors import doors_of
from tests.projects.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def test_imports_same_rows_on_page_and_api() -> None:
    # given
    project = ProjectFactory()
    client, api_client = doors_of(project)
    failed = ImportJob.objects.create(
        project=project, format="csv", status=ImportStatus.FAILED, original_name="broken.csv"
    )
    ImportJob.objects.create(
        project=project, format="jsonl", status=ImportStatus.FAILED, original_name="broken.jsonl"
    )
    ImportJob.objects.create(
        project=project, format="csv", status=ImportStatus.SUCCEEDED, original_name="fine.csv"
    )

    # when
    page = client.get(f"/projects/{project.slug}/imports/?status=failed&file_format=csv")
    fragment = client.get(
        f"/projects/{project.slug}/imports/?status=failed&file_format=csv", headers={"HX-Request": "true"}
    )
    api = api_client.get(f"/api/projects/{project.slug}/imports/?status=failed&file_format=csv")

    # then
    assert page.status_code == 200
    assert "broken.csv" in page.content.decode()
    assert "fine.csv" not in page.content.decode()
    assert "broken.jsonl" not in page.content.decode()
    assert 'id="jobs"' in fragment.content.decode()
    assert "broken.csv" in fragment.content.decode()
    assert "fine.csv" not in fragment.content.decode()
    assert [row["id"] for row in api.json()["results"]] == [failed.pk]


def test_imports_bad_value_refused_on_page_and_api() -> None:
    # given
    project = ProjectFactory()
    client, api_client = doors_of(project)
    ImportJob.objects.create(project=project, format="csv", original_name="fine.csv")

    # when
    page = client.get(f"/projects/{project.slug}/imports/?status=exploded")
    api = api_client.get(f"/api/projects/{project.slug}/imports/?status=exploded")

    # then
    assert api.status_code == 400
    assert "status" in api.json()
    assert page.status_code == 200
    assert "has-error" in page.content.decode()
    assert "fine.csv" not in page.content.decode()
