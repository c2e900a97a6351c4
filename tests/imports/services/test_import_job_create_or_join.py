"""import_job_create_or_join: the same file with the same options again, while its import is pending or
running, answers with that import (a double submit); another file, or other options, is another import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from imports.services.jobs import import_job_create_or_join, import_options_build
from projects.choices import ImportStatus
from projects.models import ImportJob, Project

pytestmark = pytest.mark.django_db

CSV = b"id,text\na1,Hello there\na2,Buy cheap pills now\n"
MAPPING = {"text_field": "text", "id_field": "id"}


def _start(project: Project, name: str = "items.csv", content: bytes = CSV, **options: Any) -> Any:
    upload = SimpleUploadedFile(name, content, content_type="text/csv")
    return import_job_create_or_join(
        project=project,
        created_by=None,
        upload=upload,
        options=import_options_build(**{**MAPPING, **options}),
    )


def test_the_same_file_while_its_import_is_pending_answers_with_it(
    project: Project, media_root: Path
) -> None:
    # given an import that no worker took yet (the test never commits, so its task waits)
    first = _start(project)

    # when the same file is sent again
    second = _start(project)

    # then
    assert (first.created, second.created) == (True, False)
    assert second.job.pk == first.job.pk
    assert ImportJob.objects.filter(project=project).count() == 1


@pytest.mark.parametrize(
    "other",
    [{"name": "other.csv"}, {"content": CSV + b"a3,One more\n"}, {"on_conflict": "update"}, {"id_field": ""}],
)
def test_another_file_or_other_options_is_another_import(
    project: Project, media_root: Path, other: dict[str, Any]
) -> None:
    # given
    first = _start(project)

    # when
    second = _start(project, **other)

    # then
    assert second.created is True
    assert second.job.pk != first.job.pk


@pytest.mark.parametrize("status", [ImportStatus.SUCCEEDED, ImportStatus.FAILED])
def test_an_import_that_ended_is_not_joined(project: Project, media_root: Path, status: str) -> None:
    # given
    first = _start(project)
    ImportJob.objects.filter(pk=first.job.pk).update(status=status)

    # when
    second = _start(project)

    # then
    assert second.created is True
