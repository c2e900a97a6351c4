"""A span project over REST: next gives the item's tokens, submit takes spans, bad spans get a 400."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from labeling.models import Annotation
from projects.choices import ProjectKind, Role
from projects.models import Membership
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_a_script_labels_spans_through_next_and_submit(
    member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    # given a span project whose item came with its own tokens, and one tokenised by the platform
    project = ProjectFactory(kind=ProjectKind.SPANS, labels=["per", "loc"])
    imported = ItemFactory(project=project, text="U.S. Army", token_offsets=[[0, 4], [5, 9]])
    ItemFactory(project=project, text="Ada 😀 here")
    api = api_client_for(member_factory(project, Role.ANALYST, username="ana").user)
    base = f"/api/projects/{project.slug}"

    # when
    shown = api.get(f"{base}/queue/next/")
    body = {
        "item_id": imported.pk,
        "spans": [{"start": 0, "end": 9, "label": "ORG"}],
        "client_uuid": str(uuid.uuid4()),
    }
    unknown = api.post(f"{base}/annotations/", body, format="json")
    body["spans"] = [{"start": 0, "end": 4, "label": "LOC", "text": "U.S."}]
    created = api.post(f"{base}/annotations/", body, format="json")
    second = api.get(f"{base}/queue/next/")

    # then
    assert shown.status_code == 200
    assert (shown.json()["item"]["id"], shown.json()["tokens"]) == (imported.pk, [[0, 4], [5, 9]])
    assert shown.json()["suggested_spans"] == []
    assert shown.json()["previous_spans"] == []
    assert unknown.status_code == 400
    assert "'ORG' is not an entity type of this project" in unknown.json()["detail"]
    assert created.status_code == 201
    assert created.json()["annotation"]["spans"] == [{"start": 0, "end": 4, "label": "loc", "text": "U.S."}]
    assert created.json()["annotation"]["labels"] == ["loc"]
    assert second.json()["tokens"] == [[0, 3], [4, 5], [6, 10]]
    assert Annotation.objects.count() == 1
