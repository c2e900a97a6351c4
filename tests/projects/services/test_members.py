from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError

from projects.choices import Role
from projects.models import Membership, Project
from projects.services.members import ERROR_LAST_OWNER, membership_add, membership_remove, membership_set_role
from tests.projects.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_membership_add_gives_the_role(project: Project) -> None:
    UserFactory(username="ana")
    membership = membership_add(project=project, username="ana", role=Role.REVIEWER)
    assert (membership.user.username, membership.role) == ("ana", Role.REVIEWER)


@pytest.mark.parametrize(
    ("username", "role", "message"),
    [
        ("ghost", Role.ANALYST, "There is no user called 'ghost'."),
        ("ana", "boss", "Unknown role 'boss'; roles are: owner, data_scientist, reviewer, analyst."),
    ],
)
def test_membership_add_refuses_bad_input(project: Project, username: str, role: str, message: str) -> None:
    UserFactory(username="ana")
    with pytest.raises(ValidationError) as error:
        membership_add(project=project, username=username, role=role)
    assert error.value.messages == [message]
    assert Membership.objects.filter(project=project).count() == 0


def test_a_member_cannot_be_added_twice(project: Project, member_factory: Callable[..., Membership]) -> None:
    member_factory(project, Role.ANALYST, username="ana")
    with pytest.raises(ValidationError, match="'ana' is already a member of this project."):
        membership_add(project=project, username="ana", role=Role.OWNER)


def test_the_last_owner_can_be_neither_demoted_nor_removed(
    project: Project, member_factory: Callable[..., Membership]
) -> None:
    owner = member_factory(project, Role.OWNER)
    with pytest.raises(ValidationError) as error:
        membership_set_role(membership=owner, role=Role.ANALYST)
    assert error.value.messages == [ERROR_LAST_OWNER]
    with pytest.raises(ValidationError):
        membership_remove(membership=owner)
    assert Membership.objects.get(pk=owner.pk).role == Role.OWNER


def test_an_owner_can_step_down_when_another_owner_remains(
    project: Project, member_factory: Callable[..., Membership]
) -> None:
    first = member_factory(project, Role.OWNER)
    member_factory(project, Role.OWNER)
    membership_set_role(membership=first, role=Role.ANALYST)
    assert Membership.objects.get(pk=first.pk).role == Role.ANALYST
