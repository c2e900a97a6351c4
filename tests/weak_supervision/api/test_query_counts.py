"""Query-count guards: the weak-supervision API's lists and details run as many queries for 23 rows as for 3."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import Max
from rest_framework.test import APIClient

from projects.choices import Role
from projects.models import Membership, Project
from tests.projects.factories import UserFactory
from tests.query_counts import assert_queries_do_not_grow, results
from weak_supervision.choices import RunStatus
from weak_supervision.models import LabelingFunction, LabelModelRun
from weak_supervision.services.functions import labeling_function_create, labeling_function_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> APIClient:
    return api_client_for(member_factory(project, Role.OWNER).user)


def _lfs(project: Project, n: int) -> list[LabelingFunction]:
    """n keyword LFs by n users, each edited once (two versions)."""
    start = LabelingFunction.objects.filter(project=project).count()
    made = []
    for index in range(start, start + n):
        user = UserFactory()
        lf = labeling_function_create(
            project=project, user=user, name=f"lf{index:03d}", kind="keyword", label="spam",
            spec={"keywords": [f"word{index}"]},
        )  # fmt: skip
        labeling_function_update(lf=lf, user=user, spec={"keywords": [f"word{index}", "more"]})
        made.append(lf)
    return made


def _runs(project: Project, n: int) -> None:
    """n runs by n users, in every status, each with chunks."""
    last = LabelModelRun.objects.filter(project=project).aggregate(n=Max("number"))["n"] or 0
    statuses = list(RunStatus.values)
    for index in range(n):
        LabelModelRun.objects.create(
            project=project, number=last + index + 1, status=statuses[index % len(statuses)],
            created_by=UserFactory(), chunks=[[1, 10], [11, 20]], error="boom" if index % 2 else "",
        )  # fmt: skip


def test_the_lf_list_does_not_grow_with_lfs(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    _lfs(project, 3)

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/labeling-functions/", lambda n: _lfs(project, n),
        django_assert_max_num_queries, rows=results,
    )  # fmt: skip


def test_the_lf_detail_does_not_grow_with_the_projects_lfs(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    lf = _lfs(project, 3)[0]

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/labeling-functions/{lf.pk}/", lambda n: _lfs(project, n),
        django_assert_max_num_queries,
    )  # fmt: skip


def test_the_lf_version_list_does_not_grow_with_versions(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given an LF with three versions
    lf = _lfs(project, 1)[0]
    labeling_function_update(lf=lf, user=UserFactory(), spec={"keywords": ["third"]})

    def more(n: int) -> None:
        for index in range(n):
            labeling_function_update(lf=lf, user=UserFactory(), spec={"keywords": [f"v{index}"]})

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/labeling-functions/{lf.pk}/versions/", more,
        django_assert_max_num_queries, rows=lambda response: len(response.data),
    )  # fmt: skip


def test_the_run_list_does_not_grow_with_runs(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    _runs(project, 3)

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/runs/", lambda n: _runs(project, n),
        django_assert_max_num_queries, rows=results,
    )  # fmt: skip


def test_the_run_detail_does_not_grow_with_the_projects_runs(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    _runs(project, 3)

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/runs/2/", lambda n: _runs(project, n),
        django_assert_max_num_queries,
    )  # fmt: skip
