"""End to end: a snapshot is built by the real Celery worker process on PostgreSQL, and a scheduled export's
beat entry, run through the worker, skips when nothing changed; rows read ahead by a thread on their own
connection equal rows read in line."""

from __future__ import annotations

import time
from pathlib import Path
from unittest import mock

import pyarrow.parquet as pq
import pytest
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from datasets import selectors
from datasets.choices import LabelPolicy, SnapshotStatus
from datasets.models import Snapshot
from datasets.selectors import row_spec_build, snapshot_rows
from datasets.services.schedules import export_schedule_create
from datasets.services.snapshots import SnapshotRequest, snapshot_create
from datasets.tasks import export_schedule_run_task
from projects.models import Item
from tests.integration.conftest import CeleryWorker
from tests.labeling.factories import AnnotationFactory, GoldLabelFactory
from tests.projects.factories import ItemFactory, ProjectFactory

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


def test_rows_read_ahead_on_their_own_connection_equal_the_rows_read_in_line() -> None:
    # given items across several chunks: agreeing, disagreeing, gold, and unlabeled ones
    project = ProjectFactory()
    for index in range(23):
        item = ItemFactory(project=project, external_id=f"r{index:02d}")
        if index % 4 != 3:
            AnnotationFactory(item=item, labels=["spam" if index % 2 else "ham"])
        if index % 3 == 0:
            AnnotationFactory(item=item, labels=["spam"])
        if index % 5 == 0:
            GoldLabelFactory(item=item, labels=["ham"])
    spec = row_spec_build(project=project, policy=LabelPolicy.SOFT, min_confidence=0.0, run=None)
    assert not connection.in_atomic_block  # the read-ahead thread is used

    # when the rows are read ahead by the reader thread, in chunks of 4, and in line in one chunk
    ahead = [chunk.row(index) for chunk in snapshot_rows(project=project, spec=spec, chunk_size=4)
             for index in range(len(chunk))]  # fmt: skip
    with transaction.atomic():  # inside a transaction: read on this connection
        in_line = [chunk.row(index) for chunk in snapshot_rows(project=project, spec=spec, chunk_size=100)
                   for index in range(len(chunk))]  # fmt: skip

    # then
    assert ahead == in_line
    sources = {row["external_id"]: row["label_source"] for row in ahead}
    assert len(ahead) == 20  # r07, r11 and r19: nobody answered, no gold label
    assert (sources["r00"], sources["r06"], sources["r03"]) == ("gold", "majority", "gold")


def test_an_error_in_the_read_ahead_thread_reaches_the_caller() -> None:
    # given a project whose items cannot be read: the query names a table that does not exist
    project = ProjectFactory()
    ItemFactory(project=project)
    spec = row_spec_build(project=project, policy=LabelPolicy.GOLD, min_confidence=0.0, run=None)

    # when / then
    with (
        mock.patch.object(selectors, "ROWS_SQL", "SELECT * FROM no_such_table WHERE %s > %s + %s + %s"),
        pytest.raises(ProgrammingError, match="no_such_table"),
    ):
        list(snapshot_rows(project=project, spec=spec))
