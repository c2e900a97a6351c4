"""The labeling hot path over REST: the same services as the page, in the API's shapes and status codes."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from labeling.choices import EventType
from labeling.models import Annotation, Flag, InteractionEvent
from projects.choices import Role
from projects.models import Membership, Project
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def _analyst(project: Project, member_factory: Callable[..., Membership], name: str = "ana") -> Membership:
    return member_factory(project, Role.ANALYST, username=name)


def test_a_script_labels_through_next_submit_skip_and_undo(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    # given
    first, second, third = ItemFactory.create_batch(3, project=project)
    api = api_client_for(_analyst(project, member_factory).user)
    base = f"/api/projects/{project.slug}"

    # when
    shown = api.get(f"{base}/queue/next/")
    body = {"item_id": first.pk, "labels": ["spam"], "client_uuid": str(uuid.uuid4()), "lead_time_ms": 900}
    created = api.post(f"{base}/annotations/", body, format="json")
    replayed = api.post(f"{base}/annotations/", body, format="json")
    second_shown = api.get(f"{base}/queue/next/")
    skipped = api.post(f"{base}/queue/skip/", {"item_id": second.pk, "dwell_ms": 50}, format="json")
    third_shown = api.get(f"{base}/queue/next/")
    undone = api.post(f"{base}/queue/undo/", {}, format="json")

    # then
    assert shown.status_code == 200
    assert shown.json()["item"]["id"] == first.pk
    assert "lease_expires_at" in shown.json()
    assert created.status_code == 201
    assert created.json()["annotation"]["labels"] == ["spam"]
    assert (replayed.status_code, replayed.json()["created"]) == (200, False)
    assert second_shown.json()["item"]["id"] == second.pk
    assert skipped.status_code == 204
    assert third_shown.json()["item"]["id"] == third.pk
    assert undone.status_code == 200
    assert (undone.json()["item"]["id"], undone.json()["previous_labels"]) == (first.pk, ["spam"])
    assert Annotation.objects.count() == 0
    methods = set(
        InteractionEvent.objects.exclude(type=EventType.VIEW).values_list("payload__input_method", flat=True)
    )
    assert methods == {"api"}


def test_next_says_204_when_nothing_is_left(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    api = api_client_for(_analyst(project, member_factory).user)
    assert api.get(f"/api/projects/{project.slug}/queue/next/").status_code == 204


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"labels": ["spam"], "client_uuid": "not-a-uuid"}, "client_uuid"),
        ({"labels": [], "client_uuid": str(uuid.uuid4())}, "labels"),
        ({"labels": ["spam"], "client_uuid": str(uuid.uuid4()), "input_method": "telepathy"}, "input_method"),
    ],
)
def test_a_malformed_submission_is_a_400_naming_the_field(
    body: dict[str, object],
    field: str,
    project: Project,
    member_factory: Callable[..., Membership],
    api_client_for: Callable[..., APIClient],
) -> None:
    item = ItemFactory(project=project)
    api = api_client_for(_analyst(project, member_factory).user)

    response = api.post(
        f"/api/projects/{project.slug}/annotations/", {"item_id": item.pk, **body}, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()
    assert Annotation.objects.count() == 0


def test_service_errors_come_back_as_detail_and_code(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    item = ItemFactory(project=project)
    api = api_client_for(_analyst(project, member_factory).user)
    base = f"/api/projects/{project.slug}"

    unknown = api.post(f"{base}/annotations/", {"item_id": item.pk, "labels": ["eggs"],
                                                "client_uuid": str(uuid.uuid4())}, format="json")  # fmt: skip
    missing = api.post(f"{base}/queue/skip/", {"item_id": 999_999}, format="json")
    nothing = api.post(f"{base}/queue/undo/", {}, format="json")

    assert (unknown.status_code, unknown.json()) == (
        400,
        {"detail": "Unknown label(s): eggs. The project's labels are: ham, spam.", "code": "unknown_label"},
    )
    assert (missing.status_code, missing.json()["detail"]) == (404, "Item not found in this project.")
    assert (nothing.status_code, nothing.json()["code"]) == (400, "nothing_to_undo")


def test_flags_and_client_events_are_recorded(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    item = ItemFactory(project=project)
    api = api_client_for(_analyst(project, member_factory).user)
    base = f"/api/projects/{project.slug}"

    flag = api.post(f"{base}/flags/", {"item_id": item.pk, "comment": "two languages"}, format="json")
    events = api.post(f"{base}/events/", {"events": [{"type": "suggestion_rejected", "item_id": item.pk,
                                                      "payload": {"label": "spam"}}]}, format="json")  # fmt: skip
    forged = api.post(f"{base}/events/", {"events": [{"type": "submit", "item_id": item.pk}]}, format="json")

    assert flag.status_code == 201
    assert Flag.objects.get().comment == "two languages"
    assert (events.status_code, events.json()) == (201, {"recorded": 1})
    assert forged.status_code == 400
    assert InteractionEvent.objects.filter(type=EventType.SUBMIT).count() == 0


def test_events_list_filter_and_export_are_scoped_to_the_viewer(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    # given ana and bob each skipped an item
    first, second = ItemFactory.create_batch(2, project=project)
    ana, bob = _analyst(project, member_factory, "ana").user, _analyst(project, member_factory, "bob").user
    owner = member_factory(project, Role.OWNER, username="olga").user
    base = f"/api/projects/{project.slug}"
    api_client_for(ana).post(f"{base}/queue/skip/", {"item_id": first.pk}, format="json")
    api_client_for(bob).post(f"{base}/queue/skip/", {"item_id": second.pk}, format="json")

    # when
    anas = api_client_for(ana).get(f"{base}/events/")
    owners = api_client_for(owner).get(f"{base}/events/", {"type": "skip", "item": second.pk})
    jsonl = api_client_for(owner).get(f"{base}/events/export/jsonl/")
    csv_export = api_client_for(ana).get(f"{base}/events/export/csv/")
    bad = api_client_for(owner).get(f"{base}/events/export/xml/")

    # then
    assert [row["username"] for row in anas.json()["results"]] == ["ana"]
    assert [(row["username"], row["item_id"]) for row in owners.json()["results"]] == [("bob", second.pk)]
    lines = [json.loads(line) for line in b"".join(jsonl.streaming_content).decode().splitlines()]
    assert [(row["type"], row["username"]) for row in lines] == [("skip", "ana"), ("skip", "bob")]
    assert jsonl["Content-Disposition"] == f'attachment; filename="{project.slug}-events.jsonl"'
    rows = list(csv.DictReader(io.StringIO(b"".join(csv_export.streaming_content).decode())))
    assert [(row["type"], row["username"], json.loads(row["payload"])["input_method"]) for row in rows] == [
        ("skip", "ana", "api")
    ]
    assert bad.status_code == 404


def test_analyst_summaries_over_the_api(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    item = ItemFactory(project=project)
    ana = _analyst(project, member_factory, "ana").user
    _analyst(project, member_factory, "bob")
    api_client_for(ana).post(f"/api/projects/{project.slug}/annotations/", {
        "item_id": item.pk, "labels": ["ham"], "client_uuid": str(uuid.uuid4()), "lead_time_ms": 3000,
    }, format="json")  # fmt: skip

    rows = api_client_for(ana).get(f"/api/projects/{project.slug}/analysts/").json()

    assert len(rows) == 1
    assert (rows[0]["username"], rows[0]["submitted"], rows[0]["median_seconds"]) == ("ana", 1, 3.0)


def test_a_non_member_gets_404_and_nothing_is_written(
    member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    mine, theirs = ProjectFactory(), ProjectFactory()
    item = ItemFactory(project=theirs)
    api = api_client_for(_analyst(mine, member_factory).user)

    responses = [
        api.get(f"/api/projects/{theirs.slug}/queue/next/"),
        api.post(f"/api/projects/{theirs.slug}/annotations/",
                 {"item_id": item.pk, "labels": ["ham"], "client_uuid": str(uuid.uuid4())}, format="json"),
        api.get(f"/api/projects/{theirs.slug}/events/"),
        api.get(f"/api/projects/{theirs.slug}/analysts/"),
    ]  # fmt: skip

    assert [response.status_code for response in responses] == [404, 404, 404, 404]
    assert Annotation.objects.count() == 0
    assert InteractionEvent.objects.count() == 0


def test_the_api_takes_a_label_key_in_any_case(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    # given
    item = ItemFactory(project=project)
    api = api_client_for(_analyst(project, member_factory).user)

    # when
    response = api.post(f"/api/projects/{project.slug}/annotations/",
                        {"item_id": item.pk, "labels": ["Spam"], "client_uuid": str(uuid.uuid4())},
                        format="json")  # fmt: skip

    # then
    assert response.status_code == 201
    assert response.json()["annotation"]["labels"] == ["spam"]
    assert list(Annotation.objects.values_list("labels", flat=True)) == [["spam"]]
