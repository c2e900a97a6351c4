"""The item page: how many annotations it still wants, and its history in words (no raw payloads)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from django.test import Client

from labeling.services.annotations import annotation_submit
from labeling.services.interactions import item_flag
from projects.choices import Role
from projects.models import Membership
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def _wanted(html: str) -> str:
    match = re.search(r'<p class="muted" id="annotations-wanted">(.*?)</p>', html, re.S)
    assert match is not None
    return match.group(1)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (0, "2 more annotations wanted · priority 0"),
        (1, "1 more annotation wanted · priority 0"),
        (2, "Overlap reached (2 annotations wanted) · priority 0"),
        (3, "Overlap reached (2 annotations wanted), and 1 extra annotation · priority 0"),
        (4, "Overlap reached (2 annotations wanted), and 2 extra annotations · priority 0"),
    ],
)
def test_the_item_page_says_how_many_annotations_it_still_wants_never_a_negative_number(
    answers: int,
    expected: str,
    client_for: Callable[..., Client],
    member_factory: Callable[..., Membership],
) -> None:
    # given an item of a project that wants two answers per item
    project = ProjectFactory(overlap=2)
    item = ItemFactory(project=project, remaining=2)
    AnnotationFactory.create_batch(answers, project=project, item=item)
    client = client_for(member_factory(project, Role.OWNER).user)

    # when
    html = client.get(f"/projects/{project.slug}/items/{item.pk}/").content.decode()

    # then
    assert _wanted(html) == expected


def test_the_item_page_history_reads_as_words_not_payloads(
    client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given an analyst who answered by hotkey in 1.3 s, then changed her answer by click, and flagged the item
    project = ProjectFactory()
    item = ItemFactory(project=project)
    analyst = member_factory(project, Role.ANALYST).user
    annotation_submit(project=project, user=analyst, item_id=item.pk, labels=["spam"], client_uuid=uuid.uuid4(),
                      lead_time_ms=1300, input_method="hotkey")  # fmt: skip
    annotation_submit(project=project, user=analyst, item_id=item.pk, labels=["ham"], client_uuid=uuid.uuid4(),
                      lead_time_ms=800, input_method="click")  # fmt: skip
    item_flag(project=project, user=analyst, item_id=item.pk, comment="Two messages", input_method="click")
    client = client_for(member_factory(project, Role.OWNER).user)

    # when
    html = client.get(f"/projects/{project.slug}/items/{item.pk}/").content.decode()

    # then each event says what was given, how and how fast, with no raw payload or internal id
    history = html[html.index('id="event-table"') :]
    cells = [
        re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r'<td class="event-details">(.*?)</td>', history)
    ]
    assert "labels spam · input hotkey · time taken 1.3 s" in cells
    assert "labels ham · input click · time taken 0.8 s · before spam" in cells
    assert "comment “Two messages” · input click" in cells
    assert "client_uuid" not in history
    assert "{&#x27;" not in history
    assert analyst.username in history
