"""Label errors over REST: starting a scan, the scans, and the ranked suspects (wiring, permissions and errors;
the scan itself is tested in tests/oversight/services/test_label_errors.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from oversight.models import LabelErrorScan, ReviewRequest
from oversight.services.label_errors import ERROR_MULTI_LABEL, label_error_scan_execute
from projects.choices import Role
from projects.models import Membership
from tests.oversight.factories import separable_project
from tests.projects.factories import MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db

MemberFactory = Callable[..., Membership]
Clients = Callable[..., APIClient]


def test_an_owner_starts_a_scan_and_reads_the_suspects_ranked(
    member_factory: MemberFactory, api_client_for: Clients, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    project, wrong = separable_project(slug="sms")
    api = api_client_for(member_factory(project, Role.OWNER, username="olga").user)

    # when: the scan is handed to the worker on commit (run inline in the tests)
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post("/api/projects/sms/label-errors/scans/start/")
    scans = api.get("/api/projects/sms/label-errors/scans/")
    scan = api.get("/api/projects/sms/label-errors/scans/1/")
    suspects = api.get("/api/projects/sms/label-errors/")
    from_gold = api.get("/api/projects/sms/label-errors/", {"given_from": "gold", "given_label": "spam"})

    # then
    assert started.status_code == 202
    assert (started.json()["number"], started.json()["status"], started.json()["created_by"]) == (
        1,
        "pending",
        "olga",
    )
    assert [(s["number"], s["status"]) for s in scans.json()["results"]] == [(1, "succeeded")]
    assert scan.json()["n_labeled"] == 120
    rows = suspects.json()["results"]
    assert suspects.json()["count"] == scan.json()["n_flagged"] > 0
    assert [row["rank"] for row in rows] == list(range(1, len(rows) + 1))
    assert rows[0]["item"] in wrong
    assert rows[0]["scan"] == 1
    assert set(rows[0]) >= {
        "external_id",
        "given_label",
        "given_from",
        "given_probability",
        "predicted_label",
    }
    assert all(row["given_label"] == "spam" for row in from_gold.json()["results"])


def test_a_second_start_while_one_is_under_way_answers_200_with_it(
    member_factory: MemberFactory, api_client_for: Clients
) -> None:
    # given: no worker takes the first scan (the test never commits)
    project, _ = separable_project(n=30, slug="sms")
    api = api_client_for(member_factory(project, Role.DATA_SCIENTIST).user)
    first = api.post("/api/projects/sms/label-errors/scans/start/")

    # when
    second = api.post("/api/projects/sms/label-errors/scans/start/")

    # then
    assert (first.status_code, second.status_code) == (202, 200)
    assert second.json()["number"] == 1
    assert LabelErrorScan.objects.count() == 1


def test_a_scan_that_cannot_start_is_a_400_that_says_why(
    member_factory: MemberFactory, api_client_for: Clients
) -> None:
    # given
    few_project = ProjectFactory(slug="few")
    multi = ProjectFactory(slug="multi", kind="multi", multi_label=True)
    owner = member_factory(multi, Role.OWNER).user
    MembershipFactory(project=few_project, user=owner, role=Role.OWNER)
    api = api_client_for(owner)

    # when
    few = api.post("/api/projects/few/label-errors/scans/start/")
    many = api.post("/api/projects/multi/label-errors/scans/start/")

    # then
    assert few.status_code == 400
    assert few.json()["code"] == "too_few"
    assert "Too few labeled items" in few.json()["detail"]
    assert many.status_code == 400
    assert many.json() == {"detail": ERROR_MULTI_LABEL, "code": "multi_label"}
    assert not LabelErrorScan.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "label-errors/"),
        ("get", "label-errors/scans/"),
        ("get", "label-errors/scans/1/"),
        ("post", "label-errors/scans/start/"),
    ],
)
def test_an_analyst_may_not_see_the_suspects_nor_start_a_scan(
    method: str, path: str, member_factory: MemberFactory, api_client_for: Clients
) -> None:
    # given a finished scan
    project, _ = separable_project(n=40, slug="sms")
    owner = api_client_for(member_factory(project, Role.OWNER).user)
    owner.post("/api/projects/sms/label-errors/scans/start/")
    label_error_scan_execute(scan_id=LabelErrorScan.objects.get().pk)
    queued = ReviewRequest.objects.count()
    analyst = api_client_for(member_factory(project, Role.ANALYST).user)

    # when
    response = getattr(analyst, method)(f"/api/projects/sms/{path}")

    # then: refused, and nothing started
    assert response.status_code == 403
    assert "given_label" not in response.content.decode()
    assert list(LabelErrorScan.objects.values_list("number", flat=True)) == [1]
    assert ReviewRequest.objects.count() == queued


def test_without_a_scan_the_suspects_are_an_empty_list(
    member_factory: MemberFactory, api_client_for: Clients
) -> None:
    # given
    project = ProjectFactory(slug="sms")
    api = api_client_for(member_factory(project, Role.REVIEWER).user)

    # when
    response = api.get("/api/projects/sms/label-errors/")
    missing = api.get("/api/projects/sms/label-errors/scans/7/")

    # then
    assert response.status_code == 200
    assert response.json()["results"] == []
    assert missing.status_code == 404


def test_the_schema_lists_the_label_error_endpoints() -> None:
    # when
    response = APIClient().get("/api/schema/", {"format": "json"})

    # then
    paths = response.json()["paths"]
    assert set(paths["/api/projects/{slug}/label-errors/scans/start/"]) == {"post"}
    assert {
        "/api/projects/{slug}/label-errors/",
        "/api/projects/{slug}/label-errors/scans/",
        "/api/projects/{slug}/label-errors/scans/{number}/",
    } <= set(paths)
