"""The labeling reads (labeling.selectors): project counts and an item's answers and flags, scoped to the viewer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from labeling.models import Flag
from labeling.selectors import (
    item_annotations,
    item_annotations_for_user,
    item_flags_for_user,
    project_stats,
    suggestions_shown,
)
from projects.access import ProjectAccess
from projects.choices import Role, Split
from projects.models import Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def _access(project: Project, role: str, username: str) -> ProjectAccess:
    user = UserFactory(username=username)
    MembershipFactory(project=project, user=user, role=role)
    return ProjectAccess(project=project, user=user, role=role)


def test_analysts_see_suggestions_only_where_the_project_lets_them_and_everyone_else_always() -> None:
    # given
    project = ProjectFactory(analysts_see_suggestions=False)
    analyst = _access(project, Role.ANALYST, "ann")
    owner = _access(project, Role.OWNER, "olga")
    reviewer = _access(project, Role.REVIEWER, "rev")
    lenient = ProjectFactory(analysts_see_suggestions=True)

    # then
    assert suggestions_shown(access=analyst) is False
    assert suggestions_shown(access=owner) is True
    assert suggestions_shown(access=reviewer) is True
    assert suggestions_shown(access=_access(lenient, Role.ANALYST, "ann2")) is True


def test_project_stats_count_items_per_split_labeled_items_and_answers_per_label() -> None:
    # given
    project = ProjectFactory()
    analyst = _access(project, Role.ANALYST, "ann")
    owner = _access(project, Role.OWNER, "olga")
    train = [ItemFactory(project=project, split=Split.TRAIN) for _ in range(3)]
    test = ItemFactory(project=project, split=Split.TEST)
    ItemFactory(project=project, split="")
    AnnotationFactory(item=train[0], annotator=analyst.user, labels=["spam"])
    AnnotationFactory(item=train[0], labels=["ham"])
    AnnotationFactory(item=train[1], labels=["ham"])
    AnnotationFactory(item=test, labels=["spam"])
    AnnotationFactory(labels=["spam"])  # another project's

    # when
    everyone = project_stats(project=project)
    for_owner = project_stats(project=project, viewer=owner)
    for_analyst = project_stats(project=project, viewer=analyst)

    # then
    assert everyone == {
        "items": 5,
        "by_split": {"none": 1, "test": 1, "train": 3},
        "labeled_items": 3,
        "annotations": 4,
        "per_label": {"ham": 2, "spam": 2},
    }
    assert for_owner == everyone
    # blind labeling: an analyst's label counts are only her own answers; the totals stay the project's
    assert for_analyst == {**everyone, "per_label": {"ham": 0, "spam": 1}}


def test_an_items_annotations_are_in_order_and_an_analyst_sees_only_her_own() -> None:
    # given
    project = ProjectFactory()
    analyst = _access(project, Role.ANALYST, "ann")
    owner = _access(project, Role.OWNER, "olga")
    item = ItemFactory(project=project)
    first = AnnotationFactory(item=item, labels=["ham"])
    mine = AnnotationFactory(item=item, annotator=analyst.user, labels=["spam"])
    AnnotationFactory(item=ItemFactory(project=project), annotator=analyst.user)  # another item's

    # then
    assert list(item_annotations(item=item)) == [first, mine]
    assert list(item_annotations_for_user(access=owner, item=item)) == [first, mine]
    assert list(item_annotations_for_user(access=analyst, item=item)) == [mine]


def test_an_items_flags_are_latest_first_and_an_analyst_sees_only_her_own() -> None:
    # given
    project = ProjectFactory()
    analyst = _access(project, Role.ANALYST, "ann")
    owner = _access(project, Role.OWNER, "olga")
    item = ItemFactory(project=project)
    theirs = Flag.objects.create(project=project, item=item, user=UserFactory(), comment="theirs")
    mine = Flag.objects.create(project=project, item=item, user=analyst.user, comment="mine")
    Flag.objects.filter(pk=theirs.pk).update(created_at=timezone.now() - timedelta(hours=1))
    Flag.objects.create(
        project=project, item=ItemFactory(project=project), user=analyst.user
    )  # another item's

    # then
    assert list(item_flags_for_user(access=owner, item=item)) == [mine, theirs]
    assert list(item_flags_for_user(access=analyst, item=item)) == [mine]
