"""Query-count guards: the labeling API's lists and the item detail run as many queries for 23 rows as for 3."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from labeling.choices import EventType
from labeling.models import Flag, InteractionEvent, Rationale
from projects.choices import Role
from projects.models import Item, Membership, Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, MembershipFactory, UserFactory
from tests.query_counts import assert_queries_do_not_grow, results

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> APIClient:
    return api_client_for(member_factory(project, Role.OWNER).user)


def _answers(item: Item, n: int) -> None:
    """n annotations by n analysts, each with a rationale and a flag."""
    for _ in range(n):
        annotation = AnnotationFactory(item=item, labels=["spam"])
        Rationale.objects.create(
            project=item.project, annotation=annotation, item=item, label="spam", start=0, end=4, quote="Item"
        )
        Flag.objects.create(project=item.project, item=item, user=annotation.annotator, comment="why")


def _events(project: Project, n: int) -> None:
    for _ in range(n):
        item = ItemFactory(project=project)
        InteractionEvent.objects.create(project=project, item=item, user=UserFactory(), type=EventType.VIEW)


def _analysts(project: Project, n: int) -> None:
    """n analysts, each with an event and an answer."""
    for _ in range(n):
        user = MembershipFactory(project=project, role=Role.ANALYST).user
        item = ItemFactory(project=project)
        InteractionEvent.objects.create(project=project, item=item, user=user, type=EventType.VIEW)
        AnnotationFactory(item=item, annotator=user)


def test_the_item_detail_does_not_grow_with_its_answers_rationales_and_flags(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    item = ItemFactory(project=project)
    _answers(item, 3)

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/items/{item.pk}/", lambda n: _answers(item, n),
        django_assert_max_num_queries,
    )  # fmt: skip


def test_the_event_list_does_not_grow_with_events(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    _events(project, 3)

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/events/", lambda n: _events(project, n),
        django_assert_max_num_queries, rows=results,
    )  # fmt: skip


def test_the_analyst_list_does_not_grow_with_analysts(
    project: Project, owner_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # given
    _analysts(project, 3)

    # then
    assert_queries_do_not_grow(
        owner_client, f"/api/projects/{project.slug}/analysts/", lambda n: _analysts(project, n),
        django_assert_max_num_queries, rows=lambda response: len(response.data),
    )  # fmt: skip
