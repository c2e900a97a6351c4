"""Query-count guards: the projects API's lists and details run as many queries for 23 rows as for 3."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from projects.choices import Role
from projects.models import Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, MembershipFactory, ProjectFactory
from tests.query_counts import Case, endpoint_test, listed, results

pytestmark = pytest.mark.django_db


def _members(project: Project, n: int) -> None:
    for index in range(n):
        MembershipFactory(project=project, role=(Role.ANALYST, Role.REVIEWER)[index % 2])


def _annotated_items(project: Project, n: int) -> None:
    for _ in range(n):
        AnnotationFactory(item=ItemFactory(project=project), labels=["spam"])


def _annotated_items_and_members(project: Project, n: int) -> None:
    _annotated_items(project, n)
    _members(project, n)


def _projects(user: User, n: int, role: str = Role.REVIEWER) -> User:
    """n more projects the user is a member of."""
    for _ in range(n):
        MembershipFactory(project=ProjectFactory(), user=user, role=role)
    return user


def _owner_of_three_projects(project: Project, owner: User) -> User:
    return _projects(owner, 2, Role.ANALYST)


# Each endpoint, given its first rows (the owner's projects, the project's items, members and answers)
test_the_endpoint_does_not_grow_with_its_rows = endpoint_test(
    Case("project-list", lambda owner: "/api/projects/", _projects, rows=results, given=_owner_of_three_projects),
    Case("project-detail", lambda project: f"/api/projects/{project.slug}/", _annotated_items_and_members),
    Case("member-list", lambda project: f"/api/projects/{project.slug}/members/", _members, rows=listed, first=2),
)  # fmt: skip
