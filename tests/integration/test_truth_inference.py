"""End to end on PostgreSQL with the real worker: truth inference runs on a worker, and a run killed mid-way
and run again gives the same posteriors as a clean run; a label-error scan runs on a worker, and an attempt
that died and is run again gives the same suspects."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import uuid

import numpy as np
import pytest
from django.conf import settings as django_settings
from django.db import connection

from config import env
from labeling.models import Annotation
from oversight.choices import JobStatus
from oversight.models import InferenceRun, ItemInferredLabel, ItemLabelIssue, LabelErrorScan
from oversight.services.label_errors import label_error_scan_execute, label_error_scan_start
from oversight.services.truth import inference_run_execute, inference_run_start
from projects.models import Item, Project
from tests.integration.conftest import CeleryWorker
from tests.oversight.factories import separable_project
from tests.plugins.real_services import RealServices
from tests.projects.factories import ProjectFactory, UserFactory

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
