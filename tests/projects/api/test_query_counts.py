"""Query-count guards: the projects API's lists and details run as many queries for 23 rows as for 3."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from projects.choices import Role
from projects.models import Membership, Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, MembershipFactory, ProjectFactory
from tests.query_counts import assert_queries_do_not_grow, results

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> APIClient:
    return api_client_for(member_factory(project, Role.OWNER).user)


def _members(project: Project, n: int) -> None:
    for index in range(n):
        MembershipFactory(project=project, role=(Role.ANALYST, Role.REVIEWER)[index % 2])


def _annotated_items(project: Project, n: int) -> None:
    for _ in range(n):
        AnnotationFactory(item=ItemFactory(project=project), labels=["spam"])


def test_the_project_list_does_not_grow_with_projects(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient],
    django_assert_max_num_queries: Any,
) -> None:  # fmt: skip
    # given an owner of three projects
    user = member_factory(project, Role.OWNER).user
    for _ in range(2):
        MembershipFactory(project=ProjectFactory(), user=user, role=Role.ANALYST)

    def more(n: int) -> None:
        for _ in range(n):
            MembershipFactory(project=ProjectFactory(), user=user, role=Role.REVIEWER)

    # then
    assert_queries_do_not_grow(
        api_client_for(user), "/api/projects/", more, django_assert_max_num_queries, rows=results
    )


def test_the_project_detail_does_not_grow_with_items_members_or_answers(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    _annotated_items(project, 3)
    _members(project, 3)

    def more(n: int) -> None:
        _annotated_items(project, n)
        _members(project, n)

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/", more, django_assert_max_num_queries
    )


def test_the_member_list_does_not_grow_with_members(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    _members(project, 2)

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/members/", lambda n: _members(project, n),
        django_assert_max_num_queries, rows=lambda response: len(response.data),
    )  # fmt: skip


def test_the_item_list_does_not_grow_with_items(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    _annotated_items(project, 3)

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/items/", lambda n: _annotated_items(project, n),
        django_assert_max_num_queries, rows=results,
    )  # fmt: skip
