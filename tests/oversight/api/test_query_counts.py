"""Query-count guards: the oversight API's lists and reports run as many queries for 23 rows as for 3."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from labeling.choices import GoldSource
from labeling.models import Flag
from oversight.choices import ReviewReason
from oversight.models import ReviewRequest
from projects.choices import Role
from projects.models import Item, Membership, Project
from tests.labeling.factories import AnnotationFactory, GoldLabelFactory
from tests.projects.factories import ItemFactory, MembershipFactory, UserFactory
from tests.query_counts import assert_queries_do_not_grow, results

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(project: Project, member_factory: Callable[..., Membership]) -> User:
    user: User = member_factory(project, Role.OWNER).user
    return user


@pytest.fixture
def owner_client(owner: User, api_client_for: Callable[..., APIClient]) -> APIClient:
    return api_client_for(owner)


def _requests(project: Project, n: int) -> None:
    """n open requests, each claimed by and passed by someone, on an item with two answers."""
    for _ in range(n):
        item = ItemFactory(project=project)
        AnnotationFactory.create_batch(2, item=item)
        request = ReviewRequest.objects.create(
            project=project, item=item, reasons=[ReviewReason.DISAGREEMENT], claimed_by=UserFactory()
        )
        request.passed_by.add(UserFactory())


def _golds(project: Project, n: int) -> None:
    for _ in range(n):
        item = ItemFactory(project=project)
        AnnotationFactory.create_batch(2, item=item)
        GoldLabelFactory(item=item, source=GoldSource.ADJUDICATED, decided_by=UserFactory())


def _reviewed(project: Project, analyst: User, n: int) -> None:
    """n items the analyst answered and a reviewer decided."""
    for _ in range(n):
        item = ItemFactory(project=project)
        AnnotationFactory(item=item, annotator=analyst, labels=["ham"])
        GoldLabelFactory(item=item, labels=["spam"], source=GoldSource.ADJUDICATED, decided_by=UserFactory())


def _annotators(project: Project, n: int, items: list[Item]) -> None:
    """n analysts who each answered every one of `items` (so pairs agree and disagree)."""
    for index in range(n):
        user = MembershipFactory(project=project, role=Role.ANALYST).user
        for position, item in enumerate(items):
            AnnotationFactory(item=item, annotator=user, labels=["spam" if (index + position) % 3 else "ham"])


def test_the_review_request_list_does_not_grow_with_requests(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    _requests(project, 3)

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/review/requests/", lambda n: _requests(project, n),
        django_assert_max_num_queries, rows=results,
    )  # fmt: skip


def test_the_gold_list_does_not_grow_with_gold_labels(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    _golds(project, 3)

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/gold/", lambda n: _golds(project, n),
        django_assert_max_num_queries, rows=results,
    )  # fmt: skip


def test_the_feedback_list_does_not_grow_with_reviewed_items(
    project: Project, owner: User, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    _reviewed(project, owner, 3)

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/feedback/", lambda n: _reviewed(project, owner, n),
        django_assert_max_num_queries, rows=lambda response: len(response.data),
    )  # fmt: skip


def test_the_agreement_report_does_not_grow_with_annotators(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given three analysts who answered the same four items
    items = [ItemFactory(project=project) for _ in range(4)]
    _annotators(project, 3, items)

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/agreement/", lambda n: _annotators(project, n, items),
        django_assert_max_num_queries,
    )  # fmt: skip


def test_the_annotator_list_does_not_grow_with_annotators(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    items = [ItemFactory(project=project) for _ in range(4)]
    GoldLabelFactory(item=items[0], labels=["spam"])
    _annotators(project, 3, items)

    # then
    def rows(response: Any) -> int:
        data = response.data
        return len(data["annotators"] if isinstance(data, dict) and "annotators" in data else data)

    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/annotators/", lambda n: _annotators(project, n, items),
        django_assert_max_num_queries, rows=rows,
    )  # fmt: skip


def test_the_review_item_does_not_grow_with_its_answers_and_flags(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    item = ItemFactory(project=project)

    def answers(n: int) -> None:
        for _ in range(n):
            annotation = AnnotationFactory(item=item)
            Flag.objects.create(project=project, item=item, user=annotation.annotator, comment="hm")

    answers(3)

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/review/items/{item.pk}/", answers,
        django_assert_max_num_queries,
    )  # fmt: skip
