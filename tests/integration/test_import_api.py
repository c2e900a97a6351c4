"""End to end: an upload through the REST API is imported by the Celery worker process."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from labeling.choices import Role
from labeling.models import Annotation, Item, Membership, Project
from tests.integration.conftest import CeleryWorker

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
