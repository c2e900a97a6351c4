"""Out-of-range numbers and unknown filters are 400s naming the parameter, never 500s (core.filtersets,
core.api.filters, core.api.exception_handlers)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from core.api.exception_handlers import OUT_OF_RANGE
from labeling.models import Annotation, InteractionEvent
from projects.choices import Role
from projects.models import Membership, Project
from tests.projects.factories import ItemFactory

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        (
            f"events/?item={HUGE}",
            {"item": ["Ensure this value is less than or equal to 9223372036854775807."]},
        ),
        (f"events/?user=-{HUGE}", {"user": ["Ensure this value is greater than or equal to -2147483648."]}),
        ("events/?item=1.5", {"item": ["Enter a whole number."]}),
        ("events/?item=abc", {"item": ["Enter a whole number."]}),
        (
            "events/?type=bogus",
            {"type": ["Select a valid choice. bogus is not one of the available choices."]},
        ),
        ("events/?since=yesterday", {"since": ["Enter a valid date/time."]}),
        (
            "items/?split=bogus",
            {"split": ["Select a valid choice. bogus is not one of the available choices."]},
        ),
        (
            "items/?itme=5",
            {
                "itme": [
                    "Unknown filter. This list takes: q, external_id, split, labeled, label, annotator, "
                    "disagreement, gold, flagged, in_review, lf, lf_vote, weak_label, confidence_min, "
                    "confidence_max, end_model_label, ordering, page, page_size, format."
                ]
            },
        ),
        (
            "snapshots/?label=spam",
            {
                "label": [
                    "Unknown filter. This list takes: status, file_format, trigger, policy, page, page_size, format."
                ]
            },
        ),
        (
            "review/requests/?state=open",
            {"state": ["Unknown filter. This list takes: status, item, page, page_size, format."]},
        ),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(
    query: str,
    errors: dict[str, list[str]],
    project: Project,
    member_factory: Callable[..., Membership],
    api_client_for: Callable[..., APIClient],
) -> None:
    # given
    owner = member_factory(project, Role.OWNER).user

    # when
    response = api_client_for(owner).get(f"/api/projects/{project.slug}/{query}")

    # then
    assert (response.status_code, response.json()) == (400, errors)


def test_known_filters_and_paging_still_work(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    # given
    owner = member_factory(project, Role.OWNER).user
    items = ItemFactory.create_batch(3, project=project)
    base = f"/api/projects/{project.slug}"

    # when
    paged = api_client_for(owner).get(f"{base}/items/", {"page": 2, "page_size": 2, "format": "json"})
    requests = api_client_for(owner).get(f"{base}/review/requests/", {"status": "resolved"})
    events = api_client_for(owner).get(f"{base}/events/", {"item": items[0].pk, "user": owner.pk})

    # then
    assert (paged.status_code, [row["id"] for row in paged.json()["results"]]) == (200, [items[2].pk])
    assert (requests.status_code, events.status_code) == (200, 200)


@pytest.mark.parametrize(
    "path", [f"items/{HUGE}/", f"imports/{HUGE}/", f"review/items/{HUGE}/", f"snapshots/{HUGE}/"]
)
def test_a_huge_id_in_the_path_is_not_found(
    path: str,
    project: Project,
    member_factory: Callable[..., Membership],
    api_client_for: Callable[..., APIClient],
) -> None:
    # given
    owner = member_factory(project, Role.OWNER).user

    # when
    response = api_client_for(owner).get(f"/api/projects/{project.slug}/{path}")

    # then
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_number_the_database_cannot_hold_is_a_400_and_nothing_is_written(
    project: Project,
    member_factory: Callable[..., Membership],
    api_client_for: Callable[..., APIClient],
) -> None:
    # given
    analyst = member_factory(project, Role.ANALYST).user
    item = ItemFactory(project=project)

    # when
    body = {"item_id": item.pk, "labels": ["spam"], "client_uuid": str(uuid.uuid4()), "lead_time_ms": 2**70}
    response = api_client_for(analyst).post(f"/api/projects/{project.slug}/annotations/", body, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "out_of_range"
    assert (
        response.json()["detail"] == OUT_OF_RANGE or "does not fit the database" in response.json()["detail"]
    )
    assert (Annotation.objects.count(), InteractionEvent.objects.count()) == (0, 0)
