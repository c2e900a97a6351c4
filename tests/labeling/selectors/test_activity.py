from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from labeling.choices import EventType
from labeling.models import InteractionEvent
from labeling.selectors.activity import (
    analyst_summary_list,
    interaction_event_list_for_user,
    project_progress,
)
from projects.choices import Role
from projects.selectors import project_get_for_user
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def _events(project, user, spec):  # type: ignore[no-untyped-def]
    """spec: (seconds after start, type, input method)."""
    start = timezone.now() - timedelta(hours=2)
    InteractionEvent.objects.bulk_create(
        InteractionEvent(
            project=project,
            user=user,
            type=kind,
            server_ts=start + timedelta(seconds=at),
            payload={"input_method": method} if method else {},
        )
        for at, kind, method in spec
    )


def test_the_summary_is_worked_out_from_events_and_lead_times(member_factory) -> None:  # type: ignore[no-untyped-def]
    # given: 3 submits and 1 skip within 90 active seconds plus a 1-hour break (counted as 5 minutes)
    project = ProjectFactory()
    analyst = member_factory(project, Role.ANALYST, username="ana").user
    _events(project, analyst, [
        (0, EventType.VIEW, ""), (30, EventType.SUBMIT, "hotkey"), (60, EventType.SUBMIT, "click"),
        (90, EventType.SKIP, "hotkey"), (3690, EventType.SUBMIT, "hotkey"),
    ])  # fmt: skip
    for lead_time in (2000, 4000, 9000):
        AnnotationFactory(item=ItemFactory(project=project), annotator=analyst, lead_time_ms=lead_time)
    viewer = project_get_for_user(user=analyst, slug=project.slug)

    # when
    [summary] = analyst_summary_list(project=viewer.project, viewer=viewer)

    # then: active time = 30 + 30 + 30 + 300 seconds = 6.5 minutes
    assert (summary.username, summary.submitted, summary.skipped) == ("ana", 3, 1)
    assert summary.active_minutes == 6.5
    assert summary.items_per_hour == round(3 / (390 / 3600), 1)
    assert summary.median_seconds == 4.0
    assert summary.skip_rate == 0.25
    assert summary.hotkey_share == 0.75


def test_an_analyst_sees_only_their_own_events_and_row(member_factory) -> None:  # type: ignore[no-untyped-def]
    # given
    project = ProjectFactory()
    ana = member_factory(project, Role.ANALYST, username="ana").user
    bob = member_factory(project, Role.ANALYST, username="bob").user
    owner = member_factory(project, Role.OWNER, username="olga").user
    _events(project, ana, [(0, EventType.SUBMIT, "click")])
    _events(project, bob, [(0, EventType.SUBMIT, "click")])

    # when
    as_ana = project_get_for_user(user=ana, slug=project.slug)
    as_owner = project_get_for_user(user=owner, slug=project.slug)

    # then
    assert [row.username for row in analyst_summary_list(project=as_ana.project, viewer=as_ana)] == ["ana"]
    assert [row.username for row in analyst_summary_list(project=as_owner.project, viewer=as_owner)] == [
        "ana",
        "bob",
    ]
    assert {e.user_id for e in interaction_event_list_for_user(project=as_ana.project, viewer=as_ana)} == {
        ana.pk
    }
    assert interaction_event_list_for_user(project=as_owner.project, viewer=as_owner).count() == 2


def test_progress_counts_done_items_and_mine(member_factory) -> None:  # type: ignore[no-untyped-def]
    project = ProjectFactory()
    me = member_factory(project).user
    done, _, _ = ItemFactory.create_batch(3, project=project)
    AnnotationFactory(item=done, annotator=me)

    assert project_progress(project=project, user=me) == {
        "items": 3, "done": 1, "remaining": 2, "percent": 33, "mine": 1,
    }  # fmt: skip
