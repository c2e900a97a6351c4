"""review_on_submit on a changed answer: a disagreement that the change ends leaves the review queue."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from pytest_django import DjangoAssertNumQueries

from labeling.services.annotations import annotation_submit, annotation_undo_last
from labeling.services.interactions import item_flag
from oversight.choices import ReviewReason
from oversight.models import ReviewRequest
from oversight.services.review import review_on_submit
from projects.choices import Role
from projects.models import Membership, Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

OPEN, RESOLVED = ReviewRequest.Status.OPEN, ReviewRequest.Status.RESOLVED


@pytest.fixture
def quiet_project() -> Project:
    """Three answers wanted per item and no random audit: only disagreements (and flags) queue an item."""
    return ProjectFactory(overlap=3, review_audit_rate=0.0)


def _submit(project: Project, user: User, item_id: int, labels: list[str]) -> None:
    annotation_submit(project=project, user=user, item_id=item_id, labels=labels, client_uuid=uuid.uuid4())


def test_a_changed_answer_that_ends_the_disagreement_closes_the_request(quiet_project: Project) -> None:
    # given Alice and Bob disagree, so the item waits for review
    item = ItemFactory(project=quiet_project)
    alice, bob = UserFactory(), UserFactory()
    _submit(quiet_project, alice, item.pk, ["spam"])
    _submit(quiet_project, bob, item.pk, ["ham"])
    assert ReviewRequest.objects.get(item=item).reasons == [ReviewReason.DISAGREEMENT]

    # when Bob changes his answer to Alice's
    _submit(quiet_project, bob, item.pk, ["spam"])

    # then the request has no reason left and is closed, by nobody
    request = ReviewRequest.objects.get(item=item)
    assert (request.status, request.reasons, request.priority) == (RESOLVED, [], 0)
    assert (request.resolved_by, request.resolved_at is not None) == (None, True)


def test_a_changed_answer_that_ends_the_disagreement_keeps_the_request_open_for_its_flag(
    quiet_project: Project,
) -> None:
    # given a disagreement and a flag on the same item
    item = ItemFactory(project=quiet_project)
    alice, bob = UserFactory(), UserFactory()
    _submit(quiet_project, alice, item.pk, ["spam"])
    _submit(quiet_project, bob, item.pk, ["ham"])
    item_flag(project=quiet_project, user=bob, item_id=item.pk, comment="Two messages")

    # when Bob changes his answer to Alice's
    _submit(quiet_project, bob, item.pk, ["spam"])

    # then only the flag keeps the item in review
    request = ReviewRequest.objects.get(item=item)
    assert (request.status, request.reasons, request.priority) == (OPEN, [ReviewReason.FLAG], 50)
    assert request.detail == {"flag": {"comment": "Two messages"}}


def test_a_changed_answer_that_still_disagrees_with_a_third_keeps_the_reason(quiet_project: Project) -> None:
    # given three answers, two of them "ham"
    item = ItemFactory(project=quiet_project)
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    _submit(quiet_project, alice, item.pk, ["spam"])
    _submit(quiet_project, bob, item.pk, ["ham"])
    _submit(quiet_project, carol, item.pk, ["ham"])

    # when Bob changes to "spam", which Carol still disagrees with
    _submit(quiet_project, bob, item.pk, ["spam"])

    # then
    request = ReviewRequest.objects.get(item=item)
    assert (request.status, request.reasons) == (OPEN, [ReviewReason.DISAGREEMENT])


def test_a_new_agreeing_answer_costs_one_query_and_leaves_the_disagreement_alone(
    quiet_project: Project,
    member_factory: Callable[[Project, str], Membership],
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    # given an item whose request lists a disagreement (kept until an answer changes or a reviewer decides)
    item = ItemFactory(project=quiet_project)
    ReviewRequest.objects.create(
        project=quiet_project, item=item, reasons=[ReviewReason.DISAGREEMENT], priority=40
    )
    AnnotationFactory(project=quiet_project, item=item, labels=["spam"])
    membership = member_factory(quiet_project, Role.ANALYST)
    new = AnnotationFactory(project=quiet_project, item=item, labels=["spam"], annotator=membership.user)

    # when: a new annotation reads the item's other answers, and nothing else
    with django_assert_num_queries(1):
        review_on_submit(project=quiet_project, annotation=new, membership=membership, created=True)

    # then
    assert ReviewRequest.objects.get(item=item).reasons == [ReviewReason.DISAGREEMENT]


def test_an_undo_that_ends_the_disagreement_closes_the_request(quiet_project: Project) -> None:
    # given Alice and Bob disagree, so the item waits for review
    item = ItemFactory(project=quiet_project)
    alice, bob = UserFactory(), UserFactory()
    _submit(quiet_project, alice, item.pk, ["spam"])
    _submit(quiet_project, bob, item.pk, ["ham"])
    assert ReviewRequest.objects.get(item=item).reasons == [ReviewReason.DISAGREEMENT]

    # when Bob takes his answer back
    annotation_undo_last(project=quiet_project, user=bob)

    # then Alice's answer is alone: the disagreement is over and the request closed, by nobody
    request = ReviewRequest.objects.get(item=item)
    assert (request.status, request.reasons) == (RESOLVED, [])


def test_an_undo_that_leaves_a_disagreement_keeps_the_request(quiet_project: Project) -> None:
    # given three answers, two of them different from the third
    item = ItemFactory(project=quiet_project)
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    _submit(quiet_project, alice, item.pk, ["spam"])
    _submit(quiet_project, bob, item.pk, ["ham"])
    _submit(quiet_project, carol, item.pk, ["ham"])

    # when Carol takes hers back, Alice and Bob still disagree
    annotation_undo_last(project=quiet_project, user=carol)

    # then
    request = ReviewRequest.objects.get(item=item)
    assert (request.status, request.reasons) == (OPEN, [ReviewReason.DISAGREEMENT])
