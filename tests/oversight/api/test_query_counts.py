"""Query-count guards: the oversight API's lists and reports run as many queries for 23 rows as for 3."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from labeling.choices import GoldSource
from labeling.models import Flag
from oversight.choices import ReviewReason
from oversight.models import ReviewRequest
from projects.choices import Role
from projects.models import Item, Membership, Project
from tests.labeling.factories import AnnotationFactory, GoldLabelFactory
from tests.projects.factories import ItemFactory, MembershipFactory, UserFactory
from tests.query_counts import Case, endpoint_test, listed, results
from weak_supervision.models import ItemWeakLabel, LabelModelRun

pytestmark = pytest.mark.django_db


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


def _reviewed(analyst: Membership, n: int) -> Membership:
    """n items the analyst answered and a reviewer decided."""
    for _ in range(n):
        item = ItemFactory(project=analyst.project)
        AnnotationFactory(item=item, annotator=analyst.user, labels=["ham"])
        GoldLabelFactory(item=item, labels=["spam"], source=GoldSource.ADJUDICATED, decided_by=UserFactory())
    return analyst


def _annotators(items: list[Item], n: int) -> None:
    """n analysts who each answered every one of `items` (so pairs agree and disagree)."""
    for index in range(n):
        user = MembershipFactory(project=items[0].project, role=Role.ANALYST).user
        for position, item in enumerate(items):
            AnnotationFactory(item=item, annotator=user, labels=["spam" if (index + position) % 3 else "ham"])


def _flagged_answers(item: Item, n: int) -> Item:
    for _ in range(n):
        annotation = AnnotationFactory(item=item)
        Flag.objects.create(project=item.project, item=item, user=annotation.annotator, comment="hm")
    return item


def _owner_reviewed_three(project: Project, owner: User) -> Membership:
    return _reviewed(Membership.objects.get(project=project, user=owner), 3)


def _four_items_by_three_analysts(project: Project, owner: User) -> list[Item]:
    """Three analysts who answered the same four items."""
    items = [ItemFactory(project=project) for _ in range(4)]
    _annotators(items, 3)
    return items


def _four_items_one_gold_by_three_analysts(project: Project, owner: User) -> list[Item]:
    items = [ItemFactory(project=project) for _ in range(4)]
    GoldLabelFactory(item=items[0], labels=["spam"])
    _annotators(items, 3)
    return items


def _browsed_items(project: Project, n: int) -> None:
    """n items with two disagreeing answers, a gold label, an open flag, a review request and a weak label."""
    run = LabelModelRun.objects.filter(project=project).first() or LabelModelRun.objects.create(
        project=project, number=1, status="succeeded", labels=["ham", "spam"]
    )
    for index in range(n):
        item = ItemFactory(project=project)
        AnnotationFactory(item=item, labels=["spam"])
        AnnotationFactory(item=item, labels=["ham"])
        GoldLabelFactory(item=item, labels=["spam"])
        Flag.objects.create(project=project, item=item, comment="hm")
        ReviewRequest.objects.create(project=project, item=item, reasons=[ReviewReason.FLAG])
        ItemWeakLabel.objects.create(
            item=item, project=project, run=run, label="spam", confidence=index / 100
        )


ITEMS_FILTERED = "?labeled=true&gold=any&flagged=true&in_review=true&label=spam&ordering=-confidence"


def _annotator_rows(response: Any) -> int:
    data = response.data
    return len(data["annotators"] if isinstance(data, dict) and "annotators" in data else data)


# Each endpoint, given its first rows (three requests, gold labels, reviewed items, analysts or answers)
test_the_endpoint_does_not_grow_with_its_rows = endpoint_test(
    Case(
        "review-request-list", lambda project: f"/api/projects/{project.slug}/review/requests/", _requests,
        rows=results,
    ),
    Case("gold-list", lambda project: f"/api/projects/{project.slug}/gold/", _golds, rows=results),
    Case(
        "feedback-list", lambda owner: f"/api/projects/{owner.project.slug}/feedback/", _reviewed, rows=listed,
        given=_owner_reviewed_three,
    ),
    Case(
        "agreement-report", lambda items: f"/api/projects/{items[0].project.slug}/agreement/", _annotators,
        given=_four_items_by_three_analysts,
    ),
    Case(
        "annotator-list", lambda items: f"/api/projects/{items[0].project.slug}/annotators/", _annotators,
        rows=_annotator_rows, given=_four_items_one_gold_by_three_analysts,
    ),
    Case("item-list", lambda project: f"/api/projects/{project.slug}/items/", _browsed_items, rows=results),
    Case(
        "item-list-filtered-sorted", lambda project: f"/api/projects/{project.slug}/items/{ITEMS_FILTERED}",
        _browsed_items, rows=results,
    ),
    Case(
        "review-item", lambda item: f"/api/projects/{item.project.slug}/review/items/{item.pk}/", _flagged_answers,
        given=lambda project, owner: _flagged_answers(ItemFactory(project=project), 3),
    ),
)  # fmt: skip
