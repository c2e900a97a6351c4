"""snapshot_create_or_join: the same request again, while its snapshot is pending or being built, answers
with that snapshot; another request, or a schedule's snapshot, is another snapshot."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from datasets.choices import ExportFormat, SnapshotStatus, Trigger
from datasets.models import Snapshot
from datasets.services.schedules import export_schedule_create
from datasets.services.snapshots import SnapshotRequest, snapshot_create, snapshot_create_or_join
from projects.models import Project
from tests.datasets.factories import label_items

pytestmark = pytest.mark.django_db


def _request(**fields: Any) -> SnapshotRequest:
    return SnapshotRequest(**{"formats": ["jsonl"], "fewshot_k": [2], **fields})


def test_the_same_request_while_its_snapshot_is_pending_answers_with_it(project: Project) -> None:
    # given a snapshot that no worker built yet (the test never commits, so its task waits)
    label_items(project, ["spam", "ham"])
    first = snapshot_create_or_join(project=project, user=None, request=_request(), trigger=Trigger.UI)

    # when the same request comes again, over the API this time, with its formats in another order
    second = snapshot_create_or_join(
        project=project, user=None, request=_request(formats=["jsonl"]), trigger=Trigger.API
    )

    # then
    assert (first.created, second.created) == (True, False)
    assert second.job.pk == first.job.pk
    assert Snapshot.objects.filter(project=project).count() == 1


@pytest.mark.parametrize(
    "other",
    [
        {"formats": ["csv"]},
        {"labels": ["spam"]},
        {"policy": "soft"},
        {"fewshot_k": []},
        {"exclude_label_errors": True},
    ],
)
def test_another_request_is_another_snapshot(project: Project, other: dict[str, Any]) -> None:
    # given
    label_items(project, ["spam", "ham"])
    first = snapshot_create_or_join(project=project, user=None, request=_request(), trigger=Trigger.UI)

    # when
    second = snapshot_create_or_join(
        project=project, user=None, request=_request(**other), trigger=Trigger.UI
    )

    # then
    assert second.created is True
    assert second.job.pk != first.job.pk


@pytest.mark.parametrize("status", [SnapshotStatus.SUCCEEDED, SnapshotStatus.FAILED, SnapshotStatus.SKIPPED])
def test_a_snapshot_that_ended_is_not_joined(project: Project, status: str) -> None:
    # given
    first = snapshot_create_or_join(project=project, user=None, request=_request()).job
    Snapshot.objects.filter(pk=first.pk).update(status=status)

    # when
    second = snapshot_create_or_join(project=project, user=None, request=_request())

    # then
    assert second.created is True


def test_neither_a_schedule_s_snapshot_nor_a_stale_one_is_joined(project: Project, settings: Any) -> None:
    # given a schedule's pending snapshot of the same request, and a page's one from longer ago than a task
    # may run (the process that held it is gone)
    schedule = export_schedule_create(
        project=project, user=None, name="nightly", every=1, period="days", crontab="", keep_last=3,
        request=_request(formats=[ExportFormat.JSONL]),
    )  # fmt: skip
    snapshot_create(
        project=project, user=None, request=_request(), trigger=Trigger.SCHEDULE, schedule=schedule
    )
    stale = snapshot_create(project=project, user=None, request=_request(), trigger=Trigger.UI)
    then = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    Snapshot.objects.filter(pk=stale.pk).update(status=SnapshotStatus.RUNNING, created_at=then)

    # when
    started = snapshot_create_or_join(project=project, user=None, request=_request())

    # then
    assert started.created is True
    assert Snapshot.objects.filter(project=project).count() == 3
