"""End to end: a snapshot is built by the real Celery worker process on PostgreSQL, and a scheduled export's
beat entry, run through the worker, skips when nothing changed."""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from datasets.choices import SnapshotStatus
from datasets.models import Snapshot
from datasets.services.schedules import export_schedule_create
from datasets.services.snapshots import SnapshotRequest, snapshot_create
from datasets.tasks import export_schedule_run_task
from labeling.models import Item
from tests.integration.conftest import CeleryWorker
from tests.labeling.factories import AnnotationFactory, ItemFactory, ProjectFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TIMEOUT_SECONDS = 60


def _wait(snapshot: Snapshot, worker: CeleryWorker) -> Snapshot:
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while snapshot.status in (SnapshotStatus.PENDING, SnapshotStatus.RUNNING) and time.monotonic() < deadline:
        time.sleep(0.2)
        snapshot.refresh_from_db()
    assert snapshot.status not in (SnapshotStatus.PENDING, SnapshotStatus.RUNNING), worker.log_tail()
    return snapshot


def test_the_worker_builds_a_snapshot_and_stores_the_splits(celery_worker_process: CeleryWorker) -> None:
    # given 50 items with agreeing answers
    project = ProjectFactory()
    for index in range(50):
        item = ItemFactory(project=project, external_id=f"m{index:02d}")
        AnnotationFactory(item=item, labels=["spam" if index % 5 == 0 else "ham"])

    # when a snapshot is requested (handed to the worker on commit)
    snapshot = _wait(
        snapshot_create(project=project, user=None, request=SnapshotRequest(formats=["parquet", "jsonl"])),
        celery_worker_process,
    )

    # then
    assert (snapshot.status, snapshot.version, snapshot.row_count) == (SnapshotStatus.SUCCEEDED, 1, 50), (
        snapshot.error or celery_worker_process.log_tail()
    )
    parquet = next(entry for entry in snapshot.manifest["files"] if entry["name"] == "data.parquet")
    table = pq.read_table(Path(parquet["path"]))
    assert table.num_rows == 50
    stored = dict(Item.objects.filter(project=project).values_list("external_id", "split"))
    assert (
        dict(zip(table.column("external_id").to_pylist(), table.column("split").to_pylist(), strict=True))
        == stored
    )


def test_a_scheduled_export_run_by_the_worker_skips_when_nothing_changed(
    celery_worker_process: CeleryWorker,
) -> None:
    # given a schedule and labeled items
    project = ProjectFactory()
    for item in ItemFactory.create_batch(10, project=project):
        AnnotationFactory(item=item, labels=["ham"])
    schedule = export_schedule_create(
        project=project, user=None, name="nightly", request=SnapshotRequest(formats=["jsonl"], fewshot_k=[]),
        every=1, period="days", crontab="", keep_last=3,
    )  # fmt: skip

    # when its task runs twice on the worker, as beat would send it
    for _ in range(2):
        export_schedule_run_task.delay(schedule.pk).get(timeout=TIMEOUT_SECONDS)

    # then
    statuses = list(
        Snapshot.objects.filter(schedule=schedule).order_by("id").values_list("status", "version")
    )
    assert statuses == [(SnapshotStatus.SUCCEEDED, 1), (SnapshotStatus.SKIPPED, None)]
    schedule.refresh_from_db()
    assert schedule.last_status == SnapshotStatus.SKIPPED
