"""The label schema over REST: list, add, edit, retire, merge, history, and labels in the project PATCH."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from labeling.models import Annotation
from projects.choices import ProjectKind, Role
from projects.models import Label, LabelChange, Membership
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_an_owner_changes_the_schema_through_the_api(
    member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    # given a project with an answer, its owner and an analyst
    project = ProjectFactory(labels=["ham", "spam", "junk"])
    AnnotationFactory(item=ItemFactory(project=project), labels=["junk"])
    owner = api_client_for(member_factory(project, Role.OWNER, username="olga").user)
    analyst = api_client_for(member_factory(project, Role.ANALYST, username="ana").user)
    base = f"/api/projects/{project.slug}"

    # when
    added = owner.post(f"{base}/labels/", {"key": "Phish", "hotkey": "p"}, format="json")
    duplicate = owner.post(f"{base}/labels/", {"key": "phish"}, format="json")
    renamed = owner.patch(f"{base}/labels/spam/", {"name": "Junk mail", "color": "#112233"}, format="json")
    retired = owner.patch(f"{base}/labels/phish/", {"retired": True}, format="json")
    refused = analyst.patch(f"{base}/labels/spam/", {"name": "Mine"}, format="json")
    unknown = owner.post(f"{base}/labels/eggs/merge/", {"into": "spam"}, format="json")
    merged = owner.post(f"{base}/labels/junk/merge/", {"into": "spam"}, format="json")
    patched = owner.patch(
        f"{base}/", {"labels": [{"key": "ham", "hotkey": "h"}, {"key": "new"}]}, format="json"
    )
    history = analyst.get(f"{base}/labels/history/")
    listed = analyst.get(f"{base}/labels/")

    # then
    assert added.status_code == 201
    assert added.json()["key"] == "phish"
    assert duplicate.status_code == 400
    assert duplicate.json()["detail"] == "The project already has a label 'phish'."
    assert (renamed.status_code, renamed.json()["name"], renamed.json()["key"]) == (200, "Junk mail", "spam")
    assert retired.json()["retired_at"] is not None
    assert refused.status_code == 403
    assert unknown.status_code == 404
    assert merged.status_code == 200
    assert (merged.json()["key"], merged.json()["into"], merged.json()["counts"]) == (
        "junk",
        "spam",
        {"annotations": 1},
    )
    assert Annotation.objects.get().labels == ["spam"]
    assert patched.status_code == 200
    assert [(label["key"], label["hotkey"]) for label in patched.json()["labels"]] == [
        ("ham", "h"),
        ("spam", "2"),
        ("phish", "p"),
        ("new", ""),
    ]
    assert history.status_code == 200
    assert [change["action"] for change in history.json()][:3] == ["add", "hotkey", "merge"]
    assert history.json()[0]["changed_by"] == "olga"
    assert [label["key"] for label in listed.json()] == ["ham", "spam", "phish", "new"]
    assert LabelChange.objects.count() == 7


def test_a_span_project_is_created_with_entity_types_and_gets_a_new_one(
    member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient], db: None
) -> None:
    from tests.projects.factories import UserFactory

    api = api_client_for(UserFactory(username="olga"))
    created = api.post(
        "/api/projects/", {"name": "NER", "kind": "spans", "labels": [{"key": "PER"}]}, format="json"
    )
    bad = api.post(
        "/api/projects/",
        {"name": "X", "kind": "spans", "multi_label": True, "labels": [{"key": "a"}]},
        format="json",
    )
    added = api.post("/api/projects/ner/labels/", {"key": "LOC"}, format="json")

    assert created.status_code == 201
    assert (created.json()["kind"], created.json()["multi_label"]) == (ProjectKind.SPANS, False)
    assert bad.status_code == 400
    assert bad.json()["detail"] == "multi_label contradicts kind 'spans'."
    assert added.status_code == 201
    assert list(Label.objects.filter(project__slug="ner").values_list("key", flat=True)) == ["per", "loc"]
