from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from labeling.choices import EventType
from labeling.models import Flag, InteractionEvent
from labeling.services.interactions import EventSpec, interaction_events_record, item_flag
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_flag_is_stored_with_its_comment_and_an_event() -> None:
    project = ProjectFactory()
    item = ItemFactory(project=project)
    analyst = UserFactory()

    flag = item_flag(
        project=project, user=analyst, item_id=item.pk, comment="  unreadable  ", input_method="hotkey"
    )

    assert (flag.item_id, flag.user, flag.comment, flag.resolved_at) == (item.pk, analyst, "unreadable", None)
    event = InteractionEvent.objects.get()
    assert (event.type, event.payload) == (
        EventType.FLAG,
        {"flag_id": flag.pk, "comment": "unreadable", "input_method": "hotkey"},
    )


def test_a_batch_of_client_events_is_stored() -> None:
    project = ProjectFactory()
    item = ItemFactory(project=project)
    user = UserFactory()

    count = interaction_events_record(project=project, user=user, events=[
        EventSpec(type=EventType.SUGGESTION_SHOWN, item_id=item.pk, payload={"label": "spam"}),
        EventSpec(type=EventType.SUGGESTION_ACCEPTED, item_id=item.pk),
    ])  # fmt: skip

    assert count == 2
    assert list(InteractionEvent.objects.order_by("id").values_list("type", "item_id", "user_id")) == [
        ("suggestion_shown", item.pk, user.pk), ("suggestion_accepted", item.pk, user.pk),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (EventSpec(type=EventType.SUBMIT), "Event 2: 'submit' cannot be reported by a client"),
        (
            EventSpec(type=EventType.RATIONALE, payload={"x": "y" * 5000}),
            "Event 2: the payload must be a JSON object",
        ),
        (
            EventSpec(type=EventType.RATIONALE, item_id=999_999),
            "Event 2: item 999999 is not in this project.",
        ),
    ],
)
def test_one_bad_event_refuses_the_batch(bad: EventSpec, message: str) -> None:
    project = ProjectFactory()
    good = EventSpec(type=EventType.RATIONALE, item_id=ItemFactory(project=project).pk)
    with pytest.raises(ValidationError, match=message):
        interaction_events_record(project=project, user=UserFactory(), events=[good, bad])
    assert InteractionEvent.objects.count() == 0


def test_a_flag_on_another_projects_item_is_refused() -> None:
    with pytest.raises(Exception, match="Item not found in this project."):
        item_flag(project=ProjectFactory(), user=UserFactory(), item_id=ItemFactory().pk)
    assert Flag.objects.count() == 0
