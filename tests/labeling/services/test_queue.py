from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from labeling.choices import EventType
from labeling.models import Assignment, InteractionEvent
from labeling.services.annotations import annotation_submit
from labeling.services.queue import (
    gold_check_due,
    queue_item_next,
    queue_item_skip,
    queue_skips_reset,
)
from projects.choices import Role
from projects.models import Item
from projects.services.projects import project_update
from tests.labeling.factories import AnnotationFactory, GoldLabelFactory
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def _submit(project, user, item, labels=("spam",)):  # type: ignore[no-untyped-def]
    return annotation_submit(
        project=project, user=user, item_id=item.pk, labels=list(labels), client_uuid=uuid.uuid4()
    )


def test_the_queue_follows_priority_then_import_order() -> None:
    # given
    project = ProjectFactory()
    first, second, urgent = ItemFactory.create_batch(3, project=project)
    Item.objects.filter(pk=urgent.pk).update(priority=5.0)
    analyst = UserFactory()

    # when
    order = []
    for _ in range(3):
        current = queue_item_next(project=project, user=analyst)
        assert current is not None
        order.append(current.item.pk)
        _submit(project, analyst, current.item)

    # then
    assert order == [urgent.pk, first.pk, second.pk]
    assert queue_item_next(project=project, user=analyst) is None


def test_asking_again_returns_the_item_already_leased_and_records_each_view() -> None:
    # given
    project = ProjectFactory()
    ItemFactory.create_batch(2, project=project)
    analyst = UserFactory()

    # when
    first = queue_item_next(project=project, user=analyst)
    again = queue_item_next(project=project, user=analyst)

    # then
    assert first is not None
    assert again is not None
    assert first.item.pk == again.item.pk
    assert Assignment.objects.filter(user=analyst, status=Assignment.Status.LEASED).count() == 1
    assert InteractionEvent.objects.filter(user=analyst, type=EventType.VIEW, item=first.item).count() == 2


def test_a_leased_item_is_not_handed_to_a_colleague_beyond_the_overlap() -> None:
    # given an overlap of 1 and one item leased by alice
    project = ProjectFactory()
    only, other = ItemFactory.create_batch(2, project=project)
    alice, bob = UserFactory(), UserFactory()
    assert queue_item_next(project=project, user=alice).item.pk == only.pk  # type: ignore[union-attr]

    # when
    bobs = queue_item_next(project=project, user=bob)

    # then
    assert bobs is not None
    assert bobs.item.pk == other.pk


def test_with_overlap_two_two_analysts_share_an_item_but_not_a_third() -> None:
    project = ProjectFactory(overlap=2)
    item, second = ItemFactory.create_batch(2, project=project)
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()

    got = [queue_item_next(project=project, user=user) for user in (alice, bob, carol)]

    assert [current.item.pk for current in got if current] == [item.pk, item.pk, second.pk]


def test_an_expired_lease_returns_the_item() -> None:
    # given alice's lease ran out
    project = ProjectFactory()
    item = ItemFactory(project=project)
    alice, bob = UserFactory(), UserFactory()
    queue_item_next(project=project, user=alice)
    Assignment.objects.filter(user=alice).update(expires_at=timezone.now() - timedelta(seconds=1))

    # when
    bobs = queue_item_next(project=project, user=bob)

    # then
    assert bobs is not None
    assert bobs.item.pk == item.pk


def test_items_answered_by_me_or_full_are_not_handed_out() -> None:
    # given one item I answered (imported into a project of overlap 2), one full item, one open item
    project = ProjectFactory(overlap=2)
    mine, full, open_item = ItemFactory.create_batch(3, project=project)
    me = UserFactory()
    AnnotationFactory(item=mine, annotator=me)
    AnnotationFactory.create_batch(2, item=full)

    # when
    current = queue_item_next(project=project, user=me)

    # then
    assert current is not None
    assert current.item.pk == open_item.pk


def test_a_skipped_item_leaves_my_queue_returns_to_colleagues_and_comes_back_on_reset() -> None:
    # given
    project = ProjectFactory()
    item = ItemFactory(project=project)
    me, colleague = UserFactory(), UserFactory()
    queue_item_next(project=project, user=me)

    # when
    queue_item_skip(project=project, user=me, item_id=item.pk, dwell_ms=1500, input_method="hotkey")

    # then
    assert queue_item_next(project=project, user=me) is None
    colleagues = queue_item_next(project=project, user=colleague)
    assert colleagues is not None
    assert colleagues.item.pk == item.pk
    skip = InteractionEvent.objects.get(type=EventType.SKIP)
    assert skip.payload == {"dwell_ms": 1500, "input_method": "hotkey"}
    Assignment.objects.filter(user=colleague).delete()
    assert queue_skips_reset(project=project, user=me) == 1
    assert queue_item_next(project=project, user=me).item.pk == item.pk  # type: ignore[union-attr]


def test_a_skip_for_an_item_of_another_project_is_refused() -> None:
    project, other = ProjectFactory(), ProjectFactory()
    foreign = ItemFactory(project=other)
    with pytest.raises(Exception, match="Item not found in this project."):
        queue_item_skip(project=project, user=UserFactory(), item_id=foreign.pk)
    assert Assignment.objects.count() == 0


def test_raising_the_overlap_reopens_done_items(member_factory) -> None:  # type: ignore[no-untyped-def]
    # given an item answered once in a project of overlap 1
    project = ProjectFactory()
    item = ItemFactory(project=project)
    AnnotationFactory(item=item)
    analyst = member_factory(project, Role.ANALYST).user
    assert queue_item_next(project=project, user=analyst) is None

    # when
    project_update(project=project, overlap=2)

    # then
    item.refresh_from_db()
    assert item.remaining == 1
    assert queue_item_next(project=project, user=analyst).item.pk == item.pk  # type: ignore[union-attr]


def test_gold_checks_are_mixed_in_at_the_projects_rate_each_once_per_analyst() -> None:
    # given: 30 ordinary items and 8 gold checks that need no more labels (remaining 0), so that only the
    # gold-check path can hand those out
    project = ProjectFactory(gold_check_rate=0.3, review_audit_rate=0.0)
    ordinary = ItemFactory.create_batch(30, project=project)
    checks = ItemFactory.create_batch(8, project=project, remaining=0)
    for item in checks:
        GoldLabelFactory(item=item, labels=["spam"])
    analyst = UserFactory()

    # when
    handed = []
    while (current := queue_item_next(project=project, user=analyst)) is not None:
        handed.append(current.item.pk)
        _submit(project, analyst, current.item)

    # then
    check_ids = {item.pk for item in checks}
    assert sorted(handed) == sorted([item.pk for item in ordinary] + list(check_ids))
    positions = [index for index, item_id in enumerate(handed) if item_id in check_ids]
    assert positions[0] < 20  # mixed in along the way, not saved for the end
    assert len(handed) == len(set(handed))


def test_no_gold_checks_are_handed_out_when_the_rate_is_zero() -> None:
    # given
    project = ProjectFactory(gold_check_rate=0.0)
    GoldLabelFactory(item=ItemFactory(project=project, remaining=0))
    analyst = UserFactory()

    # when
    current = queue_item_next(project=project, user=analyst)

    # then
    assert current is None


def test_gold_check_draws_follow_the_rate() -> None:
    # given
    project = ProjectFactory(gold_check_rate=0.2)
    analysts = UserFactory.create_batch(400)

    # when
    now = timezone.now()
    due = sum(gold_check_due(project=project, user=analyst, now=now) for analyst in analysts)
    again = sum(gold_check_due(project=project, user=analysts[0], now=now) for _ in range(20))
    later = sum(
        gold_check_due(project=project, user=analysts[0], now=now + timedelta(microseconds=n))
        for n in range(400)
    )

    # then: the share follows the rate across analysts and across moments; one moment gives one answer
    assert 50 <= due <= 110
    assert again in (0, 20)
    assert 50 <= later <= 110
