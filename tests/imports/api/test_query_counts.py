"""Query-count guards: the import list and detail run as many queries for 23 jobs as for 3."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from projects.choices import ImportStatus, Role
from projects.models import ImportJob, Membership, Project
from tests.projects.factories import UserFactory
from tests.query_counts import assert_queries_do_not_grow, results

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> APIClient:
    return api_client_for(member_factory(project, Role.OWNER).user)


def _jobs(project: Project, n: int) -> list[ImportJob]:
    """n jobs by n users, in every status."""
    statuses = list(ImportStatus.values)
    return [
        ImportJob.objects.create(
            project=project, format="csv", created_by=UserFactory(), status=statuses[i % 4]
        )
        for i in range(n)
    ]


def test_the_import_list_does_not_grow_with_jobs(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    _jobs(project, 3)

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/imports/", lambda n: _jobs(project, n),
        django_assert_max_num_queries, rows=results,
    )  # fmt: skip


def test_the_import_detail_does_not_grow_with_the_projects_jobs(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    job = _jobs(project, 3)[1]

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/imports/{job.pk}/", lambda n: _jobs(project, n),
        django_assert_max_num_queries,
    )  # fmt: skip
