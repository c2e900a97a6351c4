"""End to end: an upload through the REST API is imported by the Celery worker process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from rest_framework.test import APIClient

from config import env
from imports.selectors import import_progress_key
from imports.services.jobs import import_jobs_recover
from labeling.models import Annotation
from projects.choices import ImportStatus, Role
from projects.models import ImportJob, Item, Membership, Project
from tests.integration.conftest import CeleryWorker
from tests.plugins.real_services import RealServices
from tests.security import hostile_files as hostile

pytestmark = pytest.mark.integration

JOB_TIMEOUT_SECONDS = 30
POLL_INTERVAL_SECONDS = 0.2


def upload(client: APIClient, project: Project, name: str, content: str) -> dict[str, Any]:
    response = client.post(
        f"/api/projects/{project.slug}/imports/",
        {"file": SimpleUploadedFile(name, content.encode(), content_type="text/csv"), "id_field": "id",
         "label_field": "label"},
        format="multipart",
    )  # fmt: skip
    assert response.status_code == 202, response.content
    return response.json()


def wait_until_finished(client: APIClient, project: Project, job_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + JOB_TIMEOUT_SECONDS
    while True:
        job = client.get(f"/api/projects/{project.slug}/imports/{job_id}/").json()
        if job["status"] in ("succeeded", "failed"):
            return job
        if time.monotonic() > deadline:
            pytest.fail(
                f"import job {job_id} still '{job['status']}' after {JOB_TIMEOUT_SECONDS} s", pytrace=False
            )
        time.sleep(POLL_INTERVAL_SECONDS)


@pytest.mark.django_db(transaction=True)
def test_an_uploaded_csv_is_imported_by_the_worker(
    celery_worker_process: CeleryWorker,
    project: Project,
    member_factory: Callable[..., Membership],
    api_client_for: Callable[[object], APIClient],
) -> None:
    # given a project owner
    client = api_client_for(member_factory(project, Role.OWNER).user)

    # when they upload a CSV and wait for the job
    accepted = upload(
        client, project, "items.csv", "id,text,label\nx1,Free money,spam\nx2,Hi mum,ham\nx3,Call me,\n"
    )
    job = wait_until_finished(client, project, accepted["id"])

    # then the job was queued, the worker imported every row, and the items are in the database
    assert accepted["status"] == "pending"
    assert {key: job[key] for key in ("status", "rows_total", "items_created", "items_skipped",
                                      "annotations_imported", "error", "error_line")} == {
        "status": "succeeded", "rows_total": 3, "items_created": 3, "items_skipped": 0,
        "annotations_imported": 2, "error": "", "error_line": None,
    }  # fmt: skip
    assert job["progress"] == {"rows": 3, "fraction": 1.0, "percent": 100}
    assert list(Item.objects.filter(project=project).order_by("external_id").values_list("external_id", "text")) == [
        ("x1", "Free money"), ("x2", "Hi mum"), ("x3", "Call me"),
    ]  # fmt: skip
    assert Annotation.objects.filter(project=project).count() == 2


@pytest.mark.django_db(transaction=True)
def test_an_uploaded_csv_with_a_bad_row_fails_and_imports_nothing(
    celery_worker_process: CeleryWorker,
    project: Project,
    member_factory: Callable[..., Membership],
    api_client_for: Callable[[object], APIClient],
) -> None:
    # given a project owner
    client = api_client_for(member_factory(project, Role.OWNER).user)

    # when they upload a CSV whose third line has an unknown label, and wait for the job
    accepted = upload(client, project, "items.csv", "id,text,label\nx1,Free money,spam\nx2,Hi mum,eggs\n")
    job = wait_until_finished(client, project, accepted["id"])

    # then the job failed naming the line, and no row was imported
    assert {key: job[key] for key in ("status", "rows_total", "items_created", "error", "error_line")} == {
        "status": "failed", "rows_total": 0, "items_created": 0,
        "error": "Line 3: unknown label 'eggs'; the project's labels are: ham, spam.", "error_line": 3,
    }  # fmt: skip
    assert Item.objects.filter(project=project).count() == 0
    assert Annotation.objects.filter(project=project).count() == 0


def _job_finished(job: ImportJob, timeout: float) -> ImportJob:
    deadline = time.monotonic() + timeout
    while not job.is_finished and time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL_SECONDS)
        job.refresh_from_db()
    return job


@pytest.mark.django_db(transaction=True)
def test_a_zip_bomb_upload_fails_its_job_on_the_worker_at_once(
    celery_worker_process: CeleryWorker,
    project: Project,
    member_factory: Callable[..., Membership],
    api_client_for: Callable[[object], APIClient],
    tmp_path: Path,
) -> None:
    # given an owner and the 1 MB zip of 1 GiB
    client = api_client_for(member_factory(project, Role.OWNER).user)
    bomb = hostile.zip_bomb(tmp_path / "bomb.zip").read_bytes()

    # when they upload it as a WRENCH dataset
    response = client.post(
        f"/api/projects/{project.slug}/imports/",
        {"file": SimpleUploadedFile("bomb.zip", bomb), "format": "wrench"},
        format="multipart",
    )
    started = time.monotonic()
    job = wait_until_finished(client, project, response.json()["id"])

    # then the worker refused it from its central directory, quickly, and stays healthy
    assert response.status_code == 202
    assert (job["status"], job["error"]) == (
        "failed",
        "the archive expands to 1,073,741,849 bytes; at most 536,870,912 are accepted (IMPORT_ZIP_MAX_BYTES). "
        "Nothing was extracted.",
    )
    assert time.monotonic() - started < 10
    assert celery_worker_process.process.poll() is None


@pytest.mark.django_db(transaction=True)
def test_an_import_whose_process_is_killed_is_run_again_by_the_sweep_and_imports_once(
    celery_worker_process: CeleryWorker,
    project: Project,
    real_services: RealServices,
    tmp_path: Path,
    settings: Any,
) -> None:
    # given a CLI import of 200,000 rows in its own process (heartbeats that expire after 2 s)
    rows = 200_000
    source = tmp_path / "items.csv"
    source.write_text("id,text\n" + "".join(f"r{index},text number {index}\n" for index in range(rows)))
    database = connection.settings_dict
    victim_env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "REDIS_URL": real_services.redis_url,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "OVERSIGHT_VAR_DIR": str(env.VAR_DIR), "MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
        "OVERSIGHT_IMPORT_JOB_STALE_SECONDS": "2",
    }  # fmt: skip
    victim = subprocess.Popen(
        [sys.executable, "manage.py", "import_items", project.slug, str(source), "--id-field", "id"],
        cwd=django_settings.BASE_DIR, env=victim_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip

    # when the process is killed (SIGKILL) once its first batches are written
    try:
        deadline = time.monotonic() + JOB_TIMEOUT_SECONDS
        job = None
        while time.monotonic() < deadline:
            job = ImportJob.objects.filter(project=project).first()
            if job is not None and cache.get(import_progress_key(job.pk)):
                break
            assert victim.poll() is None, "the import finished before it could be killed"
            time.sleep(0.05)
        assert job is not None
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait()
    job.refresh_from_db()
    left_running = (job.status, job.attempts, Item.objects.filter(project=project).count())

    # and the periodic sweep runs once its heartbeat has expired
    settings.IMPORT_JOB_STALE_SECONDS = 2
    time.sleep(2.5)
    recovered = import_jobs_recover()
    job = _job_finished(job, JOB_TIMEOUT_SECONDS * 2)

    # then the dead attempt had written nothing, the worker ran the job again, and every row is there once
    assert left_running == (ImportStatus.RUNNING, 1, 0)
    assert recovered.requeued == [job.pk]
    assert (job.status, job.attempts, job.items_created, job.error) == (ImportStatus.SUCCEEDED, 2, rows, "")
    assert Item.objects.filter(project=project).count() == rows
