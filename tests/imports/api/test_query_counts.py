"""Query-count guards: the import list and detail run as many queries for 23 jobs as for 3."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from projects.choices import ImportStatus
from projects.models import ImportJob, Project
from tests.projects.factories import UserFactory
from tests.query_counts import Case, endpoint_test, results

pytestmark = pytest.mark.django_db


def _jobs(project: Project, n: int) -> list[ImportJob]:
    """n jobs by n users, in every status."""
    statuses = list(ImportStatus.values)
    return [
        ImportJob.objects.create(
            project=project, format="csv", created_by=UserFactory(), status=statuses[i % 4]
        )
        for i in range(n)
    ]


def _second_of_three_jobs(project: Project, owner: User) -> ImportJob:
    return _jobs(project, 3)[1]


# Each endpoint, given its first rows (three jobs)
test_the_endpoint_does_not_grow_with_its_rows = endpoint_test(
    Case("import-list", lambda project: f"/api/projects/{project.slug}/imports/", _jobs, rows=results),
    Case(
        "import-detail", lambda job: f"/api/projects/{job.project.slug}/imports/{job.pk}/",
        lambda job, n: _jobs(job.project, n), given=_second_of_three_jobs,
    ),
)  # fmt: skip
