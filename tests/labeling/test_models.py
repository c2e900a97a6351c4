from __future__ import annotations

import pytest

from demo.data import demo_records
from labeling.choices import EventType
from labeling.models import InteractionEvent
from projects.models import Project
from tests.projects.factories import ItemFactory

pytestmark = pytest.mark.django_db


def test_interaction_events_are_append_only(project: Project) -> None:
    # given
    event = InteractionEvent.objects.create(
        project=project, item=ItemFactory(project=project), type=EventType.VIEW
    )

    # when
    event.payload = {"tampered": True}

    # then
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    assert InteractionEvent.objects.get(pk=event.pk).payload == {}


def test_instructions_render_as_sanitised_markdown(project: Project) -> None:
    project.instructions = "**Spam** is <script>alert(1)</script> [bad](javascript:alert(1))"
    html = project.instructions_html
    assert "<strong>Spam</strong>" in html
    assert "<script>" not in html
    assert "javascript:" not in html


def test_demo_records_are_deterministic_and_realistic() -> None:
    first = list(demo_records(50))
    assert first == list(demo_records(50))
    assert [r["id"] for r in first[:2]] == ["T-100000", "T-100001"]
    assert len({r["text"] for r in first}) == 50
    assert all(len(r["text"]) > 20 for r in first)
