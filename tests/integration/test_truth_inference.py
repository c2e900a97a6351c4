"""End to end on PostgreSQL with the real worker: truth inference runs on a worker, and a run killed mid-way
and run again gives the same posteriors as a clean run; a run writes its rows without per-item foreign-key
checks, and item deletions wait for it; a label-error scan runs on a worker, and an attempt
that died and is run again gives the same suspects."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import uuid
from typing import Any

import numpy as np
import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import OperationalError, connection

from config import env
from labeling.models import Annotation
from oversight.choices import JobStatus
from oversight.models import InferenceRun, ItemInferredLabel, ItemLabelIssue, LabelErrorScan
from oversight.services import truth as truth_services
from oversight.services.items import items_delete
from oversight.services.label_errors import label_error_scan_execute, label_error_scan_start
from oversight.services.truth import inference_run_execute, inference_run_start
from projects.models import Item, Project
from tests.integration.conftest import CeleryWorker
from tests.oversight.factories import separable_project
from tests.plugins.real_services import RealServices
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

RUN_TIMEOUT_SECONDS = 60


def _crowd(project: Project, n: int, seed: int = 0) -> None:
    """n items, each answered by three of four annotators (one answers at random), written in bulk."""
    rng = np.random.default_rng(seed)
    users = [UserFactory(username=f"crowd{i}-{project.pk}") for i in range(4)]
    accuracy = [0.95, 0.9, 0.85, 0.5]
    items = Item.objects.bulk_create(
        Item(project=project, external_id=f"i{i}", text=f"text {i}",
             content_hash=hashlib.sha256(f"text {i}".encode()).hexdigest(), remaining=0)
        for i in range(n)
    )  # fmt: skip
    truth = rng.integers(0, 2, n)
    annotations = []
    for i, item in enumerate(items):
        for u in rng.choice(4, 3, replace=False):
            right = rng.random() < accuracy[u]
            label = ["ham", "spam"][truth[i] if right else 1 - truth[i]]
            annotations.append(Annotation(project=project, item=item, annotator=users[u], labels=[label],
                                          client_uuid=uuid.uuid4()))  # fmt: skip
    Annotation.objects.bulk_create(annotations, batch_size=5000)


def _posteriors(project: Project) -> dict[int, list[float]]:
    return dict(ItemInferredLabel.objects.filter(project=project).values_list("item_id", "probabilities"))


def test_the_worker_runs_a_started_inference(celery_worker_process: CeleryWorker) -> None:
    # given
    project = ProjectFactory()
    _crowd(project, 300)
    # when the run is handed to the worker on commit
    run = inference_run_start(project=project, user=None).job
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while run.status not in (JobStatus.SUCCEEDED, JobStatus.FAILED) and time.monotonic() < deadline:
        time.sleep(0.2)
        run.refresh_from_db()
    # then
    assert run.status == JobStatus.SUCCEEDED, run.error or celery_worker_process.log_tail()
    assert len(_posteriors(project)) == 300
    assert {source["kind"] for source in run.sources} == {"annotator"}


def test_a_run_killed_mid_way_and_run_again_gives_the_same_posteriors(real_services: RealServices) -> None:
    # given a project with a clean run's posteriors stored
    project = ProjectFactory()
    _crowd(project, 20_000)
    clean = inference_run_execute(
        run_id=inference_run_start(project=project, user=None, enqueue=False).job.pk
    )
    before = _posteriors(project)
    # when `infer_labels` in its own process is killed (SIGKILL) once its run is under way
    database = connection.settings_dict
    victim_env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "REDIS_URL": real_services.redis_url,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "OVERSIGHT_VAR_DIR": str(env.VAR_DIR), "MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
    }  # fmt: skip
    victim = subprocess.Popen(
        [sys.executable, "manage.py", "infer_labels", project.slug], cwd=django_settings.BASE_DIR, env=victim_env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        killed = None
        while time.monotonic() < deadline:
            killed = InferenceRun.objects.filter(project=project, number=clean.number + 1).first()
            if killed is not None and killed.status == JobStatus.RUNNING:
                break
            assert victim.poll() is None, "infer_labels finished before it could be killed"
            time.sleep(0.02)
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait()
    assert killed is not None
    killed.refresh_from_db()
    # then nothing of it was written: the clean run's posteriors are all there
    assert killed.status == JobStatus.RUNNING
    assert set(ItemInferredLabel.objects.filter(project=project).values_list("run_id", flat=True)) == {
        clean.pk
    }
    assert _posteriors(project) == before
    # and run again (as the redelivered task does), it gives the same posteriors
    rerun = inference_run_execute(run_id=killed.pk)
    assert (rerun.status, rerun.attempts) == (JobStatus.SUCCEEDED, 2)
    assert _posteriors(project) == before
    assert rerun.sources == clean.sources


def test_the_worker_runs_a_label_error_scan_and_a_rerun_gives_the_same_suspects(
    celery_worker_process: CeleryWorker,
) -> None:
    # given labeled items, eight of them with the wrong gold label
    project, wrong = separable_project(n=120, flipped=8)
    # when the scan is handed to the worker on commit
    scan = label_error_scan_start(project=project, user=None).job
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while scan.status not in (JobStatus.SUCCEEDED, JobStatus.FAILED) and time.monotonic() < deadline:
        time.sleep(0.2)
        scan.refresh_from_db()
    first = list(
        ItemLabelIssue.objects.filter(project=project).values_list("item_id", "rank", "given_probability")
    )
    # and a second scan, in this process, after an attempt that died mid-way
    again = label_error_scan_start(project=project, user=None, enqueue=False).job
    LabelErrorScan.objects.filter(pk=again.pk).update(status=JobStatus.RUNNING, attempts=1)
    again = label_error_scan_execute(scan_id=again.pk)
    # then
    assert scan.status == JobStatus.SUCCEEDED, scan.error or celery_worker_process.log_tail()
    assert len({item_id for item_id, _, _ in first} & wrong) >= 7
    assert again.status == JobStatus.SUCCEEDED
    assert again.attempts == 2
    second = list(
        ItemLabelIssue.objects.filter(project=project).values_list("item_id", "rank", "given_probability")
    )
    assert sorted(second, key=lambda row: row[1]) == sorted(first, key=lambda row: row[1])
    assert set(ItemLabelIssue.objects.filter(project=project).values_list("scan_id", flat=True)) == {again.pk}


def _other_connection() -> psycopg.Connection[Any]:
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"], port=settings["PORT"], user=settings["USER"], dbname=settings["NAME"],
        password=settings["PASSWORD"] or None,
    )  # fmt: skip


def test_a_run_writes_its_rows_without_locking_every_item_and_skips_an_item_deleted_since_its_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a project with answers, one of whose items is deleted after the run has read the answers
    project = ProjectFactory()
    _crowd(project, 300)
    gone = Item.objects.filter(project=project).order_by("id").first()
    assert gone is not None
    read = truth_services.project_answers_get

    def read_then_delete(*, project: Project) -> Any:
        found = read(project=project)
        items_delete(project=project, items=Item.objects.filter(pk=gone.pk), confirm=1)
        return found

    monkeypatch.setattr(truth_services, "project_answers_get", read_then_delete)
    before = _xmax(project)

    # when a run executes (the test role is a superuser: it may turn the foreign-key triggers off)
    run = inference_run_execute(run_id=inference_run_start(project=project, user=None, enqueue=False).job.pk)

    # then it succeeded with a row for each item that is left
    assert run.status == JobStatus.SUCCEEDED, run.error
    assert set(_posteriors(project)) == set(Item.objects.filter(project=project).values_list("id", flat=True))
    assert len(_posteriors(project)) == 299
    # and its commit locked no item for a foreign-key check of its rows (each check sets the item's xmax):
    # only the items it sent to review, whose requests keep their checks
    changed = {item_id for item_id, xmax in _xmax(project).items() if xmax != before[item_id]}
    assert len(changed) <= run.metrics["review_added"] < 299


def _xmax(project: Project) -> dict[int, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, xmax::text FROM labeling_item WHERE project_id = %s", [project.pk])
        return dict(cursor.fetchall())


def test_deleting_items_waits_for_a_run_that_writes_the_project_posteriors() -> None:
    # given a project whose row another transaction holds, as a truth-inference run holds it while it writes
    project = ProjectFactory()
    item = ItemFactory(project=project)
    other = _other_connection()
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '1s'")
    try:
        other.execute("SELECT 1 FROM labeling_project WHERE id = %s FOR NO KEY UPDATE", [project.pk])

        # when the owner deletes an item meanwhile
        # then the deletion waits for that transaction (here until the lock timeout) rather than delete an item
        # the run's rows point at without their foreign-key checks
        with pytest.raises(OperationalError, match="lock timeout"):
            items_delete(project=project, items=Item.objects.filter(pk=item.pk), confirm=1)
    finally:
        other.rollback()
        other.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert Item.objects.filter(pk=item.pk).exists()
