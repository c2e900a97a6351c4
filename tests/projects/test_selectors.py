from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from django.contrib.auth.models import AnonymousUser

from core.exceptions import NotFoundError, PermissionDeniedError
from labeling.selectors import item_annotations_for_user, project_stats, suggestions_shown
from projects.choices import Role
from projects.models import Membership, Project
from projects.permissions import Action, role_allows
from projects.selectors import (
    membership_list_for_user,
    project_get_for_user,
    project_list_for_user,
)
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_an_analyst_of_one_project_sees_nothing_of_another(member_factory: Callable[..., Membership]) -> None:
    # given
    mine, theirs = ProjectFactory(), ProjectFactory()
    analyst = member_factory(mine, Role.ANALYST).user

    # when / then
    assert list(project_list_for_user(user=analyst)) == [mine]
    with pytest.raises(NotFoundError):
        project_get_for_user(user=analyst, slug=theirs.slug)


@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [
        (Role.ANALYST, Action.VIEW, True),
        (Role.ANALYST, Action.IMPORT, False),
        (Role.ANALYST, Action.MANAGE_MEMBERS, False),
        (Role.REVIEWER, Action.REVIEW, True),
        (Role.DATA_SCIENTIST, Action.IMPORT, True),
        (Role.DATA_SCIENTIST, Action.WRITE_LFS, True),
        (Role.DATA_SCIENTIST, Action.MANAGE_MEMBERS, False),
        (Role.OWNER, Action.MANAGE_MEMBERS, True),
    ],
)
def test_roles_allow_exactly_their_actions(
    project: Project, member_factory: Callable[..., Membership], role: str, action: Action, allowed: bool
) -> None:
    user = member_factory(project, role).user
    if allowed:
        access = project_get_for_user(user=user, slug=project.slug, action=action)
        assert (access.project, access.user, access.role) == (project, user, role)
    else:
        with pytest.raises(PermissionDeniedError):
            project_get_for_user(user=user, slug=project.slug, action=action)


def test_superusers_see_every_project_and_anonymous_users_none(project: Project) -> None:
    admin = UserFactory(is_superuser=True)
    assert list(project_list_for_user(user=admin)) == [project]
    assert list(project_list_for_user(user=AnonymousUser())) == []
    with pytest.raises(NotFoundError):
        project_get_for_user(user=AnonymousUser(), slug=project.slug)


def test_project_stats_counts_items_splits_and_labels(project: Project) -> None:
    # given
    first = ItemFactory(project=project, split="train")
    ItemFactory(project=project, split="test")
    AnnotationFactory(item=first, labels=["spam"])
    AnnotationFactory(item=first, labels=["ham"])

    # when
    stats = project_stats(project=project)

    # then
    assert stats == {
        "items": 2,
        "by_split": {"test": 1, "train": 1},
        "labeled_items": 1,
        "annotations": 2,
        "per_label": {"ham": 1, "spam": 1},
    }


def test_project_stats_count_each_label_of_multi_label_annotations(db: None) -> None:
    project = ProjectFactory(multi_label=True, labels=["a", "b", "c"])
    for labels in (["a", "b"], ["a", "b"], ["a"], ["c"]):
        AnnotationFactory(item=ItemFactory(project=project), labels=labels)

    assert project_stats(project=project)["per_label"] == {"a": 3, "b": 2, "c": 1}


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        (Role.ANALYST, ["me"]),
        (Role.REVIEWER, ["me", "other"]),
        (Role.DATA_SCIENTIST, ["me", "other"]),
        (Role.OWNER, ["me", "other"]),
    ],
)
def test_item_annotations_for_user_are_blind_for_analysts(
    role: str, sees: list[str], member_factory: Callable[..., Membership]
) -> None:
    # given
    project = ProjectFactory()
    viewer = member_factory(project, role, username="me").user
    item = ItemFactory(project=project)
    AnnotationFactory(item=item, annotator=viewer)
    AnnotationFactory(item=item, annotator=UserFactory(username="other"))
    resolved = project_get_for_user(user=viewer, slug=project.slug)

    # when
    annotations = item_annotations_for_user(access=resolved, item=item)

    # then
    assert [a.annotator.username for a in annotations] == sees


def test_membership_list_for_user_hides_other_analysts_from_an_analyst(
    member_factory: Callable[..., Membership],
) -> None:
    # given
    project = ProjectFactory()
    analyst = member_factory(project, Role.ANALYST, username="ann").user
    member_factory(project, Role.ANALYST, username="bob")
    member_factory(project, Role.REVIEWER, username="rev")

    # when
    names = [m.user.username for m in membership_list_for_user(
        access=project_get_for_user(user=analyst, slug=project.slug))]  # fmt: skip

    # then
    assert names == ["ann", "rev"]


@pytest.mark.parametrize(
    ("role", "setting", "shown"),
    [(Role.ANALYST, True, True), (Role.ANALYST, False, False), (Role.DATA_SCIENTIST, False, True),
     (Role.OWNER, False, True), (Role.REVIEWER, False, True)],
)  # fmt: skip
def test_suggestions_shown_follows_the_project_setting_for_analysts_only(
    role: str, setting: bool, shown: bool, member_factory: Callable[..., Membership]
) -> None:
    # given
    project = ProjectFactory(analysts_see_suggestions=setting)
    user = member_factory(project, role).user

    # when / then
    assert suggestions_shown(access=project_get_for_user(user=user, slug=project.slug)) is shown


@pytest.mark.parametrize("role", Role.values)
def test_an_access_allows_exactly_what_the_action_table_gives_its_role(
    project: Project, member_factory: Callable[..., Membership], role: str
) -> None:
    # given a member's access, resolved by the one selector pages and the API use
    access = project_get_for_user(user=member_factory(project, role).user, slug=project.slug)

    # when / then every decision comes from the Action table, for code and templates alike
    for action in Action:
        assert access.allows(action) is role_allows(role, action)
    assert access.can == {action.value for action in Action if role_allows(role, action)}
    with pytest.raises(dataclasses.FrozenInstanceError):
        access.role = Role.OWNER  # type: ignore[misc]
    if not role_allows(role, Action.EDIT_PROJECT):
        with pytest.raises(PermissionDeniedError):
            access.require(Action.EDIT_PROJECT)
