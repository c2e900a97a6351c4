from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from labeling.models import GoldLabel
from labeling.services.interactions import item_flag
from oversight.choices import ReviewReason
from oversight.models import ReviewRequest
from projects.choices import Role
from projects.models import Membership, Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db
Api = Callable[[object], APIClient]


@pytest.fixture
def review_project() -> Project:
    return ProjectFactory(overlap=2, review_audit_rate=0.0)


def _base(project: Project) -> str:
    return f"/api/projects/{project.slug}"


def test_a_reviewer_takes_the_next_item_sees_its_annotations_and_decides_it(
    review_project: Project, member_factory: Callable[..., Membership], api_client_for: Api
) -> None:
    # given
    item = ItemFactory(project=review_project, external_id="m1")
    AnnotationFactory(item=item, labels=["spam"], annotator=UserFactory(username="alice"))
    AnnotationFactory(item=item, labels=["ham"], annotator=UserFactory(username="bob"))
    item_flag(project=review_project, user=UserFactory(), item_id=item.pk, comment="hmm")
    api = api_client_for(member_factory(review_project, Role.REVIEWER).user)

    # when
    shown = api.get(f"{_base(review_project)}/review/next/")
    decided = api.post(
        f"{_base(review_project)}/review/decisions/",
        {"item_id": item.pk, "labels": ["spam"], "note": "prize link", "use_as_check": True},
        format="json",
    )
    empty = api.get(f"{_base(review_project)}/review/next/")

    # then
    assert shown.status_code == 200
    body = shown.json()
    assert body["item"]["external_id"] == "m1"
    assert body["reasons"] == [ReviewReason.FLAG]
    assert [(a["annotator"], a["labels"]) for a in body["annotations"]] == [
        ("alice", ["spam"]),
        ("bob", ["ham"]),
    ]
    assert body["flags"][0]["comment"] == "hmm"
    assert decided.status_code == 201
    assert decided.json()["labels"] == ["spam"]
    assert decided.json()["is_check"] is True
    assert empty.status_code == 204
    assert GoldLabel.objects.get(item=item).note == "prize link"


def test_a_bad_decision_is_a_400_with_the_message(
    review_project: Project, member_factory: Callable[..., Membership], api_client_for: Api
) -> None:
    # given
    item = ItemFactory(project=review_project)
    api = api_client_for(member_factory(review_project, Role.OWNER).user)

    # when
    response = api.post(
        f"{_base(review_project)}/review/decisions/", {"item_id": item.pk, "labels": ["eggs"]}, format="json"
    )

    # then
    assert response.status_code == 400
    assert "Unknown label(s): eggs." in str(response.json())
    assert not GoldLabel.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "review/next/"),
        ("post", "review/decisions/"),
        ("post", "review/pass/"),
        ("post", "review/refresh/"),
        ("get", "review/requests/"),
        ("get", "gold/"),
        ("post", "gold/"),
    ],
)
def test_an_analyst_cannot_reach_review(
    review_project: Project,
    member_factory: Callable[..., Membership],
    api_client_for: Api,
    method: str,
    path: str,
) -> None:
    # given
    item = ItemFactory(project=review_project)
    item_flag(project=review_project, user=UserFactory(), item_id=item.pk)
    api = api_client_for(member_factory(review_project, Role.ANALYST).user)

    # when
    response = getattr(api, method)(
        f"{_base(review_project)}/{path}", {"item_id": item.pk, "labels": ["spam"]}, format="json"
    )

    # then
    assert response.status_code == 403
    assert not GoldLabel.objects.exists()
    assert ReviewRequest.objects.get(item=item).claimed_by is None


def test_the_request_list_and_a_manual_request(
    review_project: Project, member_factory: Callable[..., Membership], api_client_for: Api
) -> None:
    # given
    item = ItemFactory(project=review_project)
    api = api_client_for(member_factory(review_project, Role.REVIEWER).user)

    # when
    created = api.post(
        f"{_base(review_project)}/review/requests/", {"item_id": item.pk, "note": "odd"}, format="json"
    )
    listed = api.get(f"{_base(review_project)}/review/requests/")
    bad = api.get(f"{_base(review_project)}/review/requests/?status=nope")

    # then
    assert created.status_code == 201
    assert [(row["item"], row["reasons"]) for row in listed.json()["results"]] == [(item.pk, ["manual"])]
    assert bad.status_code == 400


def test_known_answers_over_the_api_are_all_or_nothing(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Api
) -> None:
    # given
    ItemFactory(project=project, external_id="m1")
    api = api_client_for(member_factory(project, Role.OWNER).user)

    # when
    bad = api.post(
        f"{_base(project)}/gold/",
        {"answers": [{"external_id": "m1", "labels": ["spam"]}, {"external_id": "zz", "labels": ["ham"]}]},
        format="json",
    )
    good = api.post(
        f"{_base(project)}/gold/", {"answers": [{"external_id": "m1", "labels": ["spam"]}]}, format="json"
    )
    listed = api.get(f"{_base(project)}/gold/")

    # then
    assert bad.status_code == 400
    assert "Line 2: no item with the external id 'zz'." in str(bad.json())
    assert good.json() == {"stored": 1}
    assert [(row["external_id"], row["labels"], row["is_check"]) for row in listed.json()["results"]] == [
        ("m1", ["spam"], True)
    ]


def test_an_owner_sends_an_analysts_labels_to_review(
    review_project: Project, member_factory: Callable[..., Membership], api_client_for: Api
) -> None:
    # given
    analyst = member_factory(review_project, Role.ANALYST)
    AnnotationFactory(item=ItemFactory(project=review_project), annotator=analyst.user)
    owner = api_client_for(member_factory(review_project, Role.OWNER).user)

    # when
    response = owner.post(
        f"{_base(review_project)}/members/{analyst.user_id}/review-all/", {"enabled": True}, format="json"
    )
    by_analyst = api_client_for(analyst.user).post(
        f"{_base(review_project)}/members/{analyst.user_id}/review-all/", {"enabled": False}, format="json"
    )

    # then
    assert response.json() == {"review_all_labels": True, "queued": 1}
    assert by_analyst.status_code == 403
    analyst.refresh_from_db()
    assert analyst.review_all_labels is True


def test_an_analyst_sees_feedback_on_their_own_reviewed_items_only(
    review_project: Project, member_factory: Callable[..., Membership], api_client_for: Api
) -> None:
    # given
    analyst, other = (
        member_factory(review_project, Role.ANALYST),
        member_factory(review_project, Role.ANALYST),
    )
    mine, theirs = ItemFactory.create_batch(2, project=review_project)
    AnnotationFactory(item=mine, annotator=analyst.user, labels=["ham"])
    AnnotationFactory(item=theirs, annotator=other.user, labels=["ham"])
    reviewer = api_client_for(member_factory(review_project, Role.REVIEWER).user)
    for item in (mine, theirs):
        reviewer.post(
            f"{_base(review_project)}/review/decisions/",
            {"item_id": item.pk, "labels": ["spam"], "note": "see the link"},
            format="json",
        )

    # when
    response = api_client_for(analyst.user).get(f"{_base(review_project)}/feedback/")

    # then
    rows = response.json()
    assert [(r["item_id"], r["your_labels"], r["final_labels"], r["agreed"], r["note"]) for r in rows] == [
        (mine.pk, ["ham"], ["spam"], False, "see the link")
    ]
