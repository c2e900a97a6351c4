"""Query-count guards: the snapshot and export-schedule APIs run as many queries for 23 rows as for 3."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import Max
from rest_framework.test import APIClient

from datasets.choices import ExportFormat, SnapshotStatus
from datasets.models import ExportSchedule, Snapshot
from datasets.services.schedules import export_schedule_create
from datasets.services.snapshots import SnapshotRequest
from projects.choices import Role
from projects.models import Membership, Project
from tests.projects.factories import UserFactory
from tests.query_counts import assert_queries_do_not_grow, results
from weak_supervision.choices import RunStatus
from weak_supervision.models import LabelModelRun

pytestmark = pytest.mark.django_db
FILES = [
    {"format": fmt, "name": f"data.{fmt}", "bytes": 10, "sha256": "0" * 64, "storage_name": f"x/data.{fmt}"}
    for fmt in ("jsonl", "parquet")
]


@pytest.fixture
def owner_client(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> APIClient:
    return api_client_for(member_factory(project, Role.OWNER).user)


def _schedule(project: Project, name: str) -> ExportSchedule:
    return export_schedule_create(
        project=project, user=UserFactory(), name=name, every=1, period="days", crontab="", keep_last=10,
        request=SnapshotRequest(formats=[ExportFormat.JSONL]),
    )  # fmt: skip


def _snapshots(project: Project, n: int, schedule: ExportSchedule | None = None) -> None:
    """n built snapshots, each by its own user, from its own run (and the schedule, when given)."""
    last = Snapshot.objects.filter(project=project).aggregate(n=Max("version"))["n"] or 0
    runs = LabelModelRun.objects.filter(project=project).aggregate(n=Max("number"))["n"] or 0
    for index in range(n):
        run = LabelModelRun.objects.create(
            project=project, number=runs + index + 1, status=RunStatus.SUCCEEDED
        )
        Snapshot.objects.create(
            project=project, version=last + index + 1, status=SnapshotStatus.SUCCEEDED, created_by=UserFactory(),
            schedule=schedule, run=run, formats=["jsonl", "parquet"], manifest={"files": FILES}, row_count=5,
        )  # fmt: skip


def _schedules(project: Project, n: int) -> None:
    """n schedules, each with two snapshots of its own."""
    start = ExportSchedule.objects.filter(project=project).count()
    for index in range(start, start + n):
        _snapshots(project, 2, _schedule(project, f"every day {index}"))


def test_the_snapshot_list_does_not_grow_with_snapshots(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    _snapshots(project, 3, _schedule(project, "nightly"))

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/snapshots/", lambda n: _snapshots(project, n),
        django_assert_max_num_queries, rows=results,
    )  # fmt: skip


def test_the_snapshot_detail_does_not_grow_with_the_projects_snapshots(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    _snapshots(project, 3, _schedule(project, "nightly"))

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/snapshots/2/", lambda n: _snapshots(project, n),
        django_assert_max_num_queries,
    )  # fmt: skip


def test_the_schedule_list_does_not_grow_with_schedules(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    _schedules(project, 3)

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/export-schedules/", lambda n: _schedules(project, n),
        django_assert_max_num_queries, rows=lambda response: len(response.data),
    )  # fmt: skip


def test_the_schedule_detail_does_not_grow_with_its_snapshots(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    schedule = _schedule(project, "nightly")
    _snapshots(project, 3, schedule)

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/export-schedules/{schedule.pk}/",
        lambda n: _snapshots(project, n, schedule), django_assert_max_num_queries,
    )  # fmt: skip
