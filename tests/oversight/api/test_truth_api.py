"""Truth inference over REST: runs, a run's sources, starting a run and the items' posteriors (wiring,
permissions and errors; the inference itself is tested in tests/oversight/services/test_truth.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from oversight.choices import JobStatus, SourceKind
from oversight.models import InferenceRun, ItemInferredLabel
from oversight.services.truth import ERROR_NO_ANSWERS
from projects.choices import Role
from projects.models import Item, Membership, Project
from tests.labeling.factories import AnnotationFactory
from tests.oversight.factories import InferenceRunFactory, source_entry
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory
from tests.query_counts import Case, endpoint_test, results

pytestmark = pytest.mark.django_db

MemberFactory = Callable[..., Membership]
Clients = Callable[..., APIClient]


def _answered(project: Project, member_factory: MemberFactory) -> dict[str, Membership]:
    """ana and bob answer three items, disagreeing on the last."""
    members = {name: member_factory(project, Role.ANALYST, username=name) for name in ("ana", "bob")}
    for index, (ana, bob) in enumerate([("spam", "spam"), ("ham", "ham"), ("spam", "ham")]):
        item = ItemFactory(project=project, external_id=f"i{index}")
        AnnotationFactory(item=item, annotator=members["ana"].user, labels=[ana])
        AnnotationFactory(item=item, annotator=members["bob"].user, labels=[bob])
    return members


def test_an_owner_starts_a_run_and_reads_it_with_each_sources_reliability(
    member_factory: MemberFactory, api_client_for: Clients, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    project = ProjectFactory(slug="sms")
    members = _answered(project, member_factory)
    api = api_client_for(member_factory(project, Role.OWNER, username="olga").user)

    # when: the run is handed to the worker on commit (run inline in the tests)
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post("/api/projects/sms/inference/runs/")
    listed = api.get("/api/projects/sms/inference/")
    detail = api.get("/api/projects/sms/inference/1/")
    items = api.get("/api/projects/sms/inference/items/")

    # then
    assert started.status_code == 202
    assert (started.json()["number"], started.json()["status"], started.json()["trigger"]) == (
        1,
        "pending",
        "api",
    )
    assert started.json()["created_by"] == "olga"
    assert listed.status_code == 200
    assert [(run["number"], run["status"]) for run in listed.json()["results"]] == [(1, "succeeded")]
    assert "sources" not in listed.json()["results"][0]
    body = detail.json()
    assert (body["status"], body["labels"], body["metrics"]["n_items"]) == ("succeeded", ["ham", "spam"], 3)
    by_user = {source["user_id"]: source for source in body["sources"]}
    assert set(by_user) == {members["ana"].user.pk, members["bob"].user.pk}
    ana = by_user[members["ana"].user.pk]
    assert (ana["kind"], ana["name"], ana["answered"]) == ("annotator", "ana", 3)
    assert ana["interval"][0] <= ana["accuracy"] <= ana["interval"][1]
    assert [row["label"] for row in ana["per_class"]] == ["ham", "spam"]
    assert ana["confusions"][0]["classes"] == ["ham", "spam"]
    rows = items.json()["results"]
    assert sorted(row["external_id"] for row in rows) == ["i0", "i1", "i2"]
    assert set(rows[0]["probabilities"]) == {"ham", "spam"}
    assert [row["confidence"] for row in rows] == sorted(row["confidence"] for row in rows)


def test_a_second_start_while_one_is_under_way_answers_200_with_it(
    member_factory: MemberFactory, api_client_for: Clients
) -> None:
    # given a run no worker took yet (the test never commits, so its task waits)
    project = ProjectFactory(slug="sms")
    _answered(project, member_factory)
    api = api_client_for(member_factory(project, Role.REVIEWER).user)
    first = api.post("/api/projects/sms/inference/runs/")

    # when
    second = api.post("/api/projects/sms/inference/runs/")

    # then
    assert (first.status_code, second.status_code) == (202, 200)
    assert (first.json()["number"], second.json()["number"], second.json()["status"]) == (1, 1, "pending")
    assert InferenceRun.objects.filter(project=project).count() == 1


def test_nothing_to_infer_from_is_a_400_that_says_so(
    member_factory: MemberFactory, api_client_for: Clients
) -> None:
    # given items that nobody answered
    project = ProjectFactory(slug="sms")
    ItemFactory.create_batch(2, project=project)
    api = api_client_for(member_factory(project, Role.OWNER).user)

    # when
    response = api.post("/api/projects/sms/inference/runs/")

    # then
    assert response.status_code == 400
    assert response.json() == {"detail": ERROR_NO_ANSWERS, "code": "no_answers"}
    assert not InferenceRun.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "inference/"),
        ("get", "inference/1/"),
        ("post", "inference/runs/"),
        ("get", "inference/items/"),
    ],
)
def test_an_analyst_may_not_see_others_reliability_nor_start_a_run(
    method: str, path: str, member_factory: MemberFactory, api_client_for: Clients
) -> None:
    # given
    project = ProjectFactory(slug="sms")
    members = _answered(project, member_factory)
    InferenceRunFactory(
        project=project, number=1,
        sources=[source_entry(SourceKind.ANNOTATOR, "bob", 0.6, user_id=members["bob"].user.pk)],
    )  # fmt: skip

    # when
    response = getattr(api_client_for(members["ana"].user), method)(f"/api/projects/sms/{path}")

    # then: refused, and nothing started
    assert response.status_code == 403
    assert "bob" not in response.content.decode()
    assert list(InferenceRun.objects.values_list("number", "status")) == [(1, JobStatus.SUCCEEDED)]


@pytest.mark.parametrize("role", [Role.OWNER, Role.REVIEWER, Role.DATA_SCIENTIST])
def test_those_who_oversee_read_a_run(
    role: str, member_factory: MemberFactory, api_client_for: Clients
) -> None:
    # given
    project = ProjectFactory(slug="sms")
    InferenceRunFactory(
        project=project, number=1,
        sources=[source_entry(SourceKind.LABELING_FUNCTION, "prize", 0.85, lf_id=7, interval=[0.7, 0.93])],
    )  # fmt: skip
    api = api_client_for(member_factory(project, role).user)

    # when
    response = api.get("/api/projects/sms/inference/1/")
    missing = api.get("/api/projects/sms/inference/2/")

    # then
    assert response.status_code == 200
    source = response.json()["sources"][0]
    assert (source["key"], source["lf_id"], source["accuracy"], source["interval"]) == (
        "lf:7", 7, 0.85, [0.7, 0.93],
    )  # fmt: skip
    assert missing.status_code == 404


def _posteriors(project: Project) -> dict[str, Item]:
    """a: spam 0.9 (majority spam); b: ham 0.55 (majority spam); c: spam 0.6 (no majority)."""
    run = InferenceRunFactory(project=project, number=1)
    rows = {"a": ("spam", 0.9, "spam"), "b": ("ham", 0.55, "spam"), "c": ("spam", 0.6, "")}
    items = {}
    for name, (label, confidence, majority) in rows.items():
        items[name] = item = ItemFactory(project=project, external_id=name)
        other = round(1 - confidence, 4)
        probabilities = [confidence, other] if label == "ham" else [other, confidence]
        ItemInferredLabel.objects.create(
            item=item, project=project, run=run, label=label, confidence=confidence,
            probabilities=probabilities, majority=majority,
        )  # fmt: skip
    return items


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["b", "c", "a"]),
        ("?label=spam", ["c", "a"]),
        ("?max_confidence=0.6", ["b", "c"]),
        ("?min_confidence=0.6", ["c", "a"]),
        ("?disagrees=true", ["b"]),
        ("?disagrees=false", ["c", "a"]),
        ("?label=spam&max_confidence=0.7", ["c"]),
    ],
)
def test_the_items_posteriors_are_filtered_least_sure_first(
    query: str, expected: list[str], member_factory: MemberFactory, api_client_for: Clients
) -> None:
    # given
    project = ProjectFactory(slug="sms")
    _posteriors(project)
    api = api_client_for(member_factory(project, Role.REVIEWER).user)

    # when
    response = api.get(f"/api/projects/sms/inference/items/{query}")

    # then
    assert response.status_code == 200
    assert [row["external_id"] for row in response.json()["results"]] == expected


def test_an_items_posterior_is_given_per_label(
    member_factory: MemberFactory, api_client_for: Clients
) -> None:
    # given
    project = ProjectFactory(slug="sms")
    items = _posteriors(project)
    api = api_client_for(member_factory(project, Role.OWNER).user)

    # when
    response = api.get("/api/projects/sms/inference/items/?disagrees=true")
    refused = api.get("/api/projects/sms/inference/items/?disagree=true")

    # then
    assert response.json()["results"] == [
        {
            "item": items["b"].pk, "external_id": "b", "label": "ham", "confidence": 0.55,
            "probabilities": {"ham": 0.55, "spam": 0.45}, "majority": "spam", "disagrees": True,
        }
    ]  # fmt: skip
    assert (response.json()["count"], response.json()["count_capped"]) == (1, False)
    assert refused.status_code == 400


def test_the_schema_lists_the_inference_endpoints() -> None:
    # when
    response = APIClient().get("/api/schema/", {"format": "json"})

    # then
    paths = response.json()["paths"]
    assert set(paths["/api/projects/{slug}/inference/runs/"]) == {"post"}
    assert {"/api/projects/{slug}/inference/", "/api/projects/{slug}/inference/{number}/",
            "/api/projects/{slug}/inference/items/"} <= set(paths)  # fmt: skip


def _runs(project: Project, n: int) -> None:
    """n more runs, each started by someone."""
    first = (InferenceRun.objects.filter(project=project).count() or 0) + 1
    for number in range(first, first + n):
        InferenceRunFactory(project=project, number=number, created_by=UserFactory())


def _inferred(project: Project, n: int) -> None:
    run = InferenceRun.objects.filter(project=project).first() or InferenceRunFactory(
        project=project, number=1
    )
    for index in range(n):
        ItemInferredLabel.objects.create(
            item=ItemFactory(project=project), project=project, run=run, label="spam", confidence=index / 100,
            probabilities=[1 - index / 100, index / 100], majority="ham",
        )  # fmt: skip


test_the_inference_lists_do_not_grow_with_their_rows = endpoint_test(
    Case("inference-list", lambda project: f"/api/projects/{project.slug}/inference/", _runs, rows=results),
    Case(
        "inference-items", lambda project: f"/api/projects/{project.slug}/inference/items/?disagrees=true",
        _inferred, rows=results,
    ),
)  # fmt: skip
