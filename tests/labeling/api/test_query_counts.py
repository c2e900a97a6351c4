"""Query-count guards: the labeling API's lists and the item detail run as many queries for 23 rows as for 3."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from labeling.choices import EventType
from labeling.models import Flag, InteractionEvent, Rationale
from projects.choices import Role
from projects.models import Item, Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, MembershipFactory, UserFactory
from tests.query_counts import Case, endpoint_test, listed, results

pytestmark = pytest.mark.django_db


def _answers(item: Item, n: int) -> Item:
    """n annotations by n analysts, each with a rationale and a flag."""
    for _ in range(n):
        annotation = AnnotationFactory(item=item, labels=["spam"])
        Rationale.objects.create(
            project=item.project, annotation=annotation, item=item, label="spam", start=0, end=4, quote="Item"
        )
        Flag.objects.create(project=item.project, item=item, user=annotation.annotator, comment="why")
    return item


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


def _item_with_three_answers(project: Project, owner: User) -> Item:
    return _answers(ItemFactory(project=project), 3)


# Each endpoint, given its first rows (an item's three answers, three events or analysts)
test_the_endpoint_does_not_grow_with_its_rows = endpoint_test(
    Case(
        "item-detail", lambda item: f"/api/projects/{item.project.slug}/items/{item.pk}/", _answers,
        given=_item_with_three_answers,
    ),
    Case("event-list", lambda project: f"/api/projects/{project.slug}/events/", _events, rows=results),
    Case("analyst-list", lambda project: f"/api/projects/{project.slug}/analysts/", _analysts, rows=listed),
)  # fmt: skip
