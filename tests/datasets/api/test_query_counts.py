"""Query-count guards: the snapshot and export-schedule APIs run as many queries for 23 rows as for 3."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db.models import Max

from datasets.choices import ExportFormat, SnapshotStatus
from datasets.models import ExportSchedule, Snapshot
from datasets.services.schedules import export_schedule_create
from datasets.services.snapshots import SnapshotRequest
from projects.models import Project
from tests.projects.factories import UserFactory
from tests.query_counts import Case, endpoint_test, listed, results
from weak_supervision.choices import RunStatus
from weak_supervision.models import LabelModelRun

pytestmark = pytest.mark.django_db
FILES = [
    {"format": fmt, "name": f"data.{fmt}", "bytes": 10, "sha256": "0" * 64, "storage_name": f"x/data.{fmt}"}
    for fmt in ("jsonl", "parquet")
]


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


def _three_nightly_snapshots(project: Project, owner: User) -> Project:
    _snapshots(project, 3, _schedule(project, "nightly"))
    return project


def _nightly_with_three_snapshots(project: Project, owner: User) -> ExportSchedule:
    schedule = _schedule(project, "nightly")
    _snapshots(project, 3, schedule)
    return schedule


# Each endpoint, given its first rows (three snapshots or schedules)
test_the_endpoint_does_not_grow_with_its_rows = endpoint_test(
    Case(
        "snapshot-list", lambda project: f"/api/projects/{project.slug}/snapshots/", _snapshots, rows=results,
        given=_three_nightly_snapshots,
    ),
    Case(
        "snapshot-detail", lambda project: f"/api/projects/{project.slug}/snapshots/2/", _snapshots,
        given=_three_nightly_snapshots,
    ),
    Case("schedule-list", lambda project: f"/api/projects/{project.slug}/export-schedules/", _schedules, rows=listed),
    Case(
        "schedule-detail", lambda schedule: f"/api/projects/{schedule.project.slug}/export-schedules/{schedule.pk}/",
        lambda schedule, n: _snapshots(schedule.project, n, schedule), given=_nightly_with_three_snapshots,
    ),
)  # fmt: skip
