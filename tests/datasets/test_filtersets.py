"""The datasets app's FilterSets read alike by its pages and its API (core.filtersets)."""

from __future__ import annotations

import pytest

from datasets.choices import SnapshotStatus
from datasets.models import ExportSchedule, Snapshot
from tests.doors import doors_of
from tests.projects.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def test_snapshots_same_rows_on_page_and_api() -> None:
    # given
    project = ProjectFactory()
    client, api_client = doors_of(project)
    failed_csv = Snapshot.objects.create(
        project=project, status=SnapshotStatus.FAILED, formats=["jsonl", "csv"]
    )
    failed_parquet = Snapshot.objects.create(
        project=project, status=SnapshotStatus.FAILED, formats=["parquet"]
    )
    pending_csv = Snapshot.objects.create(project=project, formats=["csv"])

    # when
    page = client.get(f"/projects/{project.slug}/datasets/?status=failed&file_format=csv")
    api = api_client.get(f"/api/projects/{project.slug}/snapshots/?status=failed&file_format=csv")

    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert f'id="snapshot-{failed_csv.pk}"' in html
    assert f'id="snapshot-{failed_parquet.pk}"' not in html
    assert f'id="snapshot-{pending_csv.pk}"' not in html
    assert [row["id"] for row in api.json()["results"]] == [failed_csv.pk]


def test_snapshots_bad_value_refused_on_page_and_api() -> None:
    # given
    project = ProjectFactory()
    client, api_client = doors_of(project)
    snapshot = Snapshot.objects.create(project=project, formats=["csv"])

    # when
    page = client.get(f"/projects/{project.slug}/datasets/?file_format=xlsx")
    api = api_client.get(f"/api/projects/{project.slug}/snapshots/?file_format=xlsx")

    # then
    assert api.status_code == 400
    assert "file_format" in api.json()
    assert page.status_code == 200
    assert "has-error" in page.content.decode()
    assert f'id="snapshot-{snapshot.pk}"' not in page.content.decode()


def test_schedules_same_rows_on_page_and_api() -> None:
    # given
    project = ProjectFactory()
    client, api_client = doors_of(project)
    nightly = ExportSchedule.objects.create(project=project, name="nightly", formats=["csv"], every=1)
    paused = ExportSchedule.objects.create(
        project=project, name="paused", formats=["csv"], every=1, enabled=False
    )

    # when
    page = client.get(f"/projects/{project.slug}/datasets/schedules/?enabled=true")
    api = api_client.get(f"/api/projects/{project.slug}/export-schedules/?enabled=true")

    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert f'id="schedule-{nightly.pk}"' in html
    assert f'id="schedule-{paused.pk}"' not in html
    assert [row["id"] for row in api.json()] == [nightly.pk]


def test_schedules_bad_value_refused_on_page_and_api() -> None:
    # given
    project = ProjectFactory()
    client, api_client = doors_of(project)
    nightly = ExportSchedule.objects.create(project=project, name="nightly", formats=["csv"], every=1)

    # when
    page = client.get(f"/projects/{project.slug}/datasets/schedules/?enabled=sometimes")
    api = api_client.get(f"/api/projects/{project.slug}/export-schedules/?enabled=sometimes")
    unknown = api_client.get(f"/api/projects/{project.slug}/export-schedules/?enable=true")

    # then
    assert api.status_code == 400
    assert "enabled" in api.json()
    assert unknown.status_code == 400
    assert page.status_code == 200
    assert "enabled:" in page.content.decode()
    assert f'id="schedule-{nightly.pk}"' not in page.content.decode()
