"""InteractionEventFilterSet read alike by the item page's history and the events endpoint (core.filtersets)."""

from __future__ import annotations

import pytest

from labeling.choices import EventType
from labeling.models import InteractionEvent
from tests.doors import doors_of
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_events_same_rows_on_item_page_and_api() -> None:
    # given
    project = ProjectFactory()
    client, api_client = doors_of(project)
    item = ItemFactory(project=project)
    flag = InteractionEvent.objects.create(
        project=project, item=item, type=EventType.FLAG, payload={"marker": "flag-event"}
    )
    InteractionEvent.objects.create(
        project=project, item=item, type=EventType.VIEW, payload={"marker": "view-event"}
    )

    # when
    page = client.get(f"/projects/{project.slug}/items/{item.pk}/?type=flag")
    api = api_client.get(f"/api/projects/{project.slug}/events/?type=flag&item={item.pk}")

    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert "flag-event" in html
    assert "view-event" not in html
    assert [row["id"] for row in api.json()["results"]] == [flag.pk]


def test_events_bad_value_refused_on_item_page_and_api() -> None:
    # given
    project = ProjectFactory()
    client, api_client = doors_of(project)
    item = ItemFactory(project=project)
    InteractionEvent.objects.create(
        project=project, item=item, type=EventType.VIEW, payload={"marker": "view-event"}
    )

    # when
    page = client.get(f"/projects/{project.slug}/items/{item.pk}/?since=yesterday")
    api = api_client.get(f"/api/projects/{project.slug}/events/?since=yesterday")

    # then
    assert api.status_code == 400
    assert "since" in api.json()
    assert page.status_code == 200
    assert "since:" in page.content.decode()
    assert "view-event" not in page.content.decode()
