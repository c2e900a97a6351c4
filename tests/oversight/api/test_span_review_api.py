"""Span projects over REST: the agreement endpoint's span payload, and review decisions with spans."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from labeling.models import GoldLabel
from oversight.choices import ReviewReason
from oversight.models import ReviewRequest
from projects.choices import Role
from projects.models import Membership, Project
from tests.oversight.factories import span_answer, span_project, spans_in
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db
Api = Callable[[object], APIClient]
TEXT = "Ada Lovelace met Charles Babbage in London"


@pytest.fixture
def spans_project() -> Project:
    return span_project(slug="ner")


def test_the_agreement_endpoint_answers_span_projects_with_the_span_report(
    spans_project: Project, member_factory: Callable[..., Membership], api_client_for: Api
) -> None:
    # given
    item = ItemFactory(project=spans_project, text=TEXT)
    span_answer(item, UserFactory(username="ana"), ("Ada Lovelace", "per"), ("London", "loc"))
    span_answer(item, UserFactory(username="bob"), ("Ada", "per"), ("London", "loc"))
    api = api_client_for(member_factory(spans_project, Role.REVIEWER).user)

    # when
    response = api.get("/api/projects/ner/agreement/")

    # then: London matches exactly, Ada only by overlap
    assert response.status_code == 200
    body = response.json()
    assert (body["kind"], body["n_items"], body["n_annotators"]) == ("spans", 1, 2)
    assert (body["exact_f1"], body["overlap_f1"]) == (0.5, 1.0)
    assert body["per_type"]["loc"] == {"n_spans": 2, "exact_f1": 1.0, "overlap_f1": 1.0}
    assert [(pair["a"], pair["b"], pair["exact_f1"]) for pair in body["pairs"]] == [("ana", "bob", 0.5)]
    assert body["krippendorff_alpha"] is not None


def test_an_analyst_gets_403_for_a_span_projects_agreement(
    spans_project: Project, member_factory: Callable[..., Membership], api_client_for: Api
) -> None:
    # when
    response = api_client_for(member_factory(spans_project, Role.ANALYST).user).get(
        "/api/projects/ner/agreement/"
    )

    # then
    assert response.status_code == 403


def test_a_reviewer_sees_the_answers_spans_and_decides_gold_spans(
    spans_project: Project, member_factory: Callable[..., Membership], api_client_for: Api
) -> None:
    # given
    item = ItemFactory(project=spans_project, text=TEXT)
    span_answer(item, UserFactory(username="ana"), ("Charles Babbage", "per"))
    span_answer(item, UserFactory(username="bob"), ("Babbage", "per"))
    ReviewRequest.objects.create(project=spans_project, item=item, reasons=[ReviewReason.DISAGREEMENT])
    api = api_client_for(member_factory(spans_project, Role.REVIEWER).user)
    decided = spans_in(TEXT, ("Charles Babbage", "per"), ("London", "loc"))

    # when
    shown = api.get("/api/projects/ner/review/next/")
    response = api.post(
        "/api/projects/ner/review/decisions/",
        {"item_id": item.pk, "spans": decided, "note": "full name"},
        format="json",
    )

    # then
    body = shown.json()
    assert body["kind"] == "spans"
    assert [(a["annotator"], [s["text"] for s in a["spans"]]) for a in body["annotations"]] == [
        ("ana", ["Charles Babbage"]),
        ("bob", ["Babbage"]),
    ]
    assert response.status_code == 201
    assert (response.json()["spans"], response.json()["labels"]) == (decided, ["per", "loc"])
    assert [row["spans"] for row in response.json()["based_on"]] == [a["spans"] for a in body["annotations"]]


def test_a_reviewer_accepts_one_answer_by_its_id(
    spans_project: Project, member_factory: Callable[..., Membership], api_client_for: Api
) -> None:
    # given
    item = ItemFactory(project=spans_project, text=TEXT)
    answer = span_answer(item, UserFactory(), ("London", "loc"))
    api = api_client_for(member_factory(spans_project, Role.REVIEWER).user)

    # when
    response = api.post(
        "/api/projects/ner/review/decisions/", {"item_id": item.pk, "annotation_id": answer.pk}, format="json"
    )

    # then
    assert response.status_code == 201
    assert GoldLabel.objects.get(item=item).spans == answer.spans


@pytest.mark.parametrize(
    ("spans", "field_or_message"),
    [
        ([{"start": 0, "end": 3, "label": "per", "text": "Bob"}], "is not the text at 0-3"),
        ([{"start": 0, "end": 99, "label": "per"}], "is not inside the text"),
        ([{"start": 0, "end": 3, "label": "animal"}], "is not an entity type"),
        ([{"start": -1, "end": 3, "label": "per"}], "spans"),
    ],
)
def test_bad_spans_are_a_400_that_names_them_and_store_nothing(
    spans_project: Project,
    member_factory: Callable[..., Membership],
    api_client_for: Api,
    spans: list[dict[str, object]],
    field_or_message: str,
) -> None:
    # given
    item = ItemFactory(project=spans_project, text=TEXT)
    api = api_client_for(member_factory(spans_project, Role.REVIEWER).user)

    # when
    response = api.post(
        "/api/projects/ner/review/decisions/", {"item_id": item.pk, "spans": spans}, format="json"
    )

    # then
    assert response.status_code == 400
    assert field_or_message in str(response.json())
    assert not GoldLabel.objects.filter(item=item).exists()


def test_a_decision_without_labels_spans_or_answer_is_a_400_on_labels(
    member_factory: Callable[..., Membership], api_client_for: Api
) -> None:
    # given
    project = ProjectFactory(slug="items")
    item = ItemFactory(project=project)
    api = api_client_for(member_factory(project, Role.REVIEWER).user)

    # when
    response = api.post("/api/projects/items/review/decisions/", {"item_id": item.pk}, format="json")

    # then
    assert response.status_code == 400
    assert "labels" in response.json()
    assert not GoldLabel.objects.filter(item=item).exists()


def test_the_schema_documents_span_decisions() -> None:
    # when
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()

    # then
    decide = schema["components"]["schemas"]["ReviewDecideInputRequest"]["properties"]
    assert {"spans", "annotation_id", "labels"} <= set(decide)
    assert "spans" in schema["components"]["schemas"]["GoldLabelOutput"]["properties"]
    agreement = schema["paths"]["/api/projects/{slug}/agreement/"]["get"]["description"]
    assert '"kind": "spans"' in agreement
