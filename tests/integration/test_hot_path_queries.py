"""The labeling hot path's SQL on real PostgreSQL, counted as production runs it (BEGIN and COMMIT included:
these tests run outside a test transaction): the issue asks `next` for at most 6 queries and `submit` for at
most 8; they take 5 and 6-7 (the token and membership one statement), held here at 5 and 7, through the API
with a token, suggestions and gold checks on."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.services import api_token_create
from labeling.models import Annotation, GoldLabel, InteractionEvent
from oversight.choices import REVIEW_REASON_PRIORITY
from oversight.models import ReviewRequest
from projects.choices import Role
from projects.models import Item, Project
from tests.projects.factories import ItemFactory, MembershipFactory, ProjectFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

NEXT_MAX = 5  # the issue asks for at most 6
SUBMIT_MAX = 7  # the issue asks for at most 8 (6 for a plain answer; a gold check or review 7)


def _analyst(project: Project) -> APIClient:
    membership = MembershipFactory(project=project, role=Role.ANALYST)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=membership.user).key}")
    return client


def _next(client: APIClient, project: Project) -> dict[str, Any]:
    response = client.get(f"/api/projects/{project.slug}/queue/next/")
    assert response.status_code == 200, response.content
    return dict(response.json())


def _submit(client: APIClient, project: Project, item_id: int, label: str, **extra: Any) -> Any:
    body = {"item_id": item_id, "labels": [label], "client_uuid": str(uuid.uuid4()), **extra}
    return client.post(f"/api/projects/{project.slug}/annotations/", body, format="json")


@pytest.mark.parametrize("overlap", [1, 2])
def test_next_and_submit_stay_within_their_query_budgets(
    overlap: int, django_assert_max_num_queries: Any
) -> None:
    # given a project with suggestions stored on its items, gold checks drawn at 20%, and a warm analyst
    assert connection.vendor == "postgresql"
    project = ProjectFactory(overlap=overlap, gold_check_rate=0.2)
    items = ItemFactory.create_batch(30, project=project)
    Item.objects.filter(project=project).update(
        suggested_label="spam", suggested_confidence=0.9, suggested_by=1
    )
    GoldLabel.objects.create(project=project, item=items[-1], labels=["ham"], is_check=True)
    client = _analyst(project)
    colleague = _analyst(project)
    _submit(client, project, _next(client, project)["item"]["id"], "ham")  # warm: per-process caches

    for _ in range(4):
        # when a colleague answers first (overlap 2: the item has another answer), then the analyst asks
        first = _next(colleague, project)
        _submit(colleague, project, first["item"]["id"], "spam")
        with django_assert_max_num_queries(NEXT_MAX):
            current = _next(client, project)
        with django_assert_max_num_queries(NEXT_MAX):  # a reload: the live lease again
            again = _next(client, project)
        with django_assert_max_num_queries(SUBMIT_MAX):
            stored = _submit(client, project, current["item"]["id"], "spam", suggested_label="spam")

        # then everything was written
        assert again["item"]["id"] == current["item"]["id"]
        assert current["suggestion"]["label"] == "spam"
        assert stored.status_code == 201, stored.content
    mine = Annotation.objects.filter(
        project=project, annotator__username=stored.json()["annotation"]["annotator"]
    )
    assert mine.count() == 5
    kinds = set(InteractionEvent.objects.filter(project=project).values_list("type", flat=True))
    assert {"view", "submit", "suggestion_shown", "suggestion_accepted"} <= kinds
    submit = InteractionEvent.objects.filter(project=project, type="submit").order_by("-pk").first()
    assert submit is not None
    assert submit.payload["annotation_id"] == stored.json()["annotation"]["id"]


def test_a_retried_submit_and_a_changed_answer_are_still_right(django_assert_max_num_queries: Any) -> None:
    # given an answered item
    project = ProjectFactory()
    ItemFactory.create_batch(3, project=project)
    client = _analyst(project)
    item_id = _next(client, project)["item"]["id"]
    body = {"item_id": item_id, "labels": ["ham"], "client_uuid": str(uuid.uuid4())}
    first = client.post(f"/api/projects/{project.slug}/annotations/", body, format="json")

    # when the same submission is retried, and the answer then changed
    with django_assert_max_num_queries(SUBMIT_MAX):
        retried = client.post(f"/api/projects/{project.slug}/annotations/", body, format="json")
    changed = _submit(client, project, item_id, "spam")

    # then
    assert (first.status_code, retried.status_code, changed.status_code) == (201, 200, 200)
    assert retried.json()["annotation"]["id"] == first.json()["annotation"]["id"]
    assert Annotation.objects.get(pk=first.json()["annotation"]["id"]).labels == ["spam"]
    assert Item.objects.get(pk=item_id).remaining == 0


def test_a_submit_drawn_for_audit_on_an_item_already_in_review_stays_within_budget(
    django_assert_max_num_queries: Any,
) -> None:
    # given every item drawn for audit, two answers wanted per item, and a colleague's answer that put the item
    # in review (the audit draw)
    project = ProjectFactory(overlap=2, review_audit_rate=1.0)
    ItemFactory.create_batch(3, project=project)
    client, colleague = _analyst(project), _analyst(project)
    item_id = _next(colleague, project)["item"]["id"]
    assert _submit(colleague, project, item_id, "spam").status_code == 201
    assert _next(client, project)["item"]["id"] == item_id

    # when the analyst disagrees: the item's open request gets a second reason, and the audit draw again
    with django_assert_max_num_queries(SUBMIT_MAX):
        response = _submit(client, project, item_id, "ham")

    # then both reasons are on the one open request, the higher priority first
    assert response.status_code == 201, response.content
    request = ReviewRequest.objects.get(item_id=item_id, status=ReviewRequest.Status.OPEN)
    assert request.reasons == ["disagreement", "audit"]
    assert request.priority == REVIEW_REASON_PRIORITY["disagreement"]


def test_next_and_submit_do_not_wait_for_foreign_key_checks_on_their_item() -> None:
    # given a project's one open item, held FOR KEY SHARE by another transaction, as PostgreSQL's foreign-key
    # checks hold every item at the commit of a truth-inference run (a row per item)
    project = ProjectFactory(overlap=1)
    item = ItemFactory(project=project)
    client = _analyst(project)
    settings = connection.settings_dict
    other = psycopg.connect(
        host=settings["HOST"], port=settings["PORT"], user=settings["USER"], dbname=settings["NAME"],
        password=settings["PASSWORD"] or None,
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '2s'")  # a wait for the other transaction fails the request
    try:
        other.execute("SELECT 1 FROM labeling_item WHERE id = %s FOR KEY SHARE", [item.pk])

        # when the analyst asks for an item and answers it meanwhile
        shown = _next(client, project)
        response = _submit(client, project, shown["item"]["id"], "ham")

        # then the item was handed out (not skipped as locked) and the answer stored without waiting
        assert shown["item"]["id"] == item.pk
        assert response.status_code == 201, response.content
    finally:
        other.rollback()
        other.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    item.refresh_from_db()
    assert item.remaining == 0
