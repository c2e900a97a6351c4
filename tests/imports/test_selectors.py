"""The import reads: a project's jobs, one job, and its progress (from the cache while it runs)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache

from core.exceptions import NotFoundError
from imports.selectors import (
    import_heartbeat_key,
    import_job_get,
    import_job_list,
    import_job_progress,
    import_progress_key,
)
from projects.choices import ImportStatus
from projects.models import ImportJob
from tests.projects.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_cache_keys_name_the_job() -> None:
    assert import_progress_key(7) == "oversight:import:7:progress"
    assert import_heartbeat_key(7) == "oversight:import:7:heartbeat"


def test_a_projects_jobs_are_listed_newest_first_and_only_its_own() -> None:
    # given
    project = ProjectFactory()
    user = UserFactory()
    older = ImportJob.objects.create(project=project, format="csv", created_by=user)
    newer = ImportJob.objects.create(project=project, format="jsonl")
    other = ImportJob.objects.create(project=ProjectFactory(), format="csv")
    ImportJob.objects.filter(pk=older.pk).update(created_at=newer.created_at - timedelta(minutes=1))

    # when
    listed = list(import_job_list(project=project))

    # then
    assert listed == [newer, older]
    assert listed[1].created_by == user
    assert import_job_get(project=project, job_id=older.pk) == older
    with pytest.raises(NotFoundError, match="Import not found."):
        import_job_get(project=project, job_id=other.pk)


def test_progress_comes_from_the_cache_while_running_and_from_the_row_when_done() -> None:
    # given
    project = ProjectFactory()
    running = ImportJob.objects.create(project=project, format="csv", status=ImportStatus.RUNNING)
    pending = ImportJob.objects.create(project=project, format="csv")
    succeeded = ImportJob.objects.create(
        project=project, format="csv", status=ImportStatus.SUCCEEDED, rows_total=42
    )
    failed = ImportJob.objects.create(project=project, format="csv", status=ImportStatus.FAILED, rows_total=9)
    cache.set(import_progress_key(running.pk), {"rows": 120, "fraction": 0.375})

    # then
    assert import_job_progress(job=running) == {"rows": 120, "fraction": 0.375, "percent": 37}
    assert import_job_progress(job=pending) == {"rows": 0, "fraction": 0.0, "percent": 0}
    assert import_job_progress(job=succeeded) == {"rows": 42, "fraction": 1.0, "percent": 100}
    assert import_job_progress(job=failed) == {"rows": 0, "fraction": 0.0, "percent": 0}
