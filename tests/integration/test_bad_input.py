"""On PostgreSQL too, numbers the database cannot hold and bad filters are 400s, never 500s."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from django.db import connection
from rest_framework.test import APIClient

from labeling.models import Annotation
from projects.choices import Role
from projects.models import Membership, Project
from tests.projects.factories import ItemFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

ITEM_FILTERS = (
    "q, external_id, split, labeled, label, annotator, disagreement, gold, flagged, in_review, lf, lf_vote, "
    "weak_label, confidence_min, confidence_max, end_model_label, ordering"
)


def test_an_answer_with_a_number_beyond_the_column_is_a_400_and_stores_nothing(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    # given
    assert connection.vendor == "postgresql"
    analyst = member_factory(project, Role.ANALYST).user
    item = ItemFactory(project=project)
    body = {"item_id": item.pk, "labels": ["spam"], "client_uuid": str(uuid.uuid4()), "lead_time_ms": 2**70}

    # when
    response = api_client_for(analyst).post(f"/api/projects/{project.slug}/annotations/", body, format="json")

    # then
    assert (response.status_code, response.json()["code"]) == (400, "out_of_range")
    assert response.json()["detail"].startswith("A value in the request does not fit the database: ")
    assert Annotation.objects.count() == 0


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        (
            "events/?item=99999999999999999999",
            {"item": [f"Ensure this value is less than or equal to {2**63 - 1}."]},
        ),
        (
            "items/?itme=5",
            {"itme": [f"Unknown filter. This list takes: {ITEM_FILTERS}, page, page_size, format."]},
        ),
    ],
)
def test_bad_filters_are_400s(
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
