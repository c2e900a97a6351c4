"""Labeling functions and runs over REST: wiring, permissions and error mapping."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from projects.choices import Role
from projects.models import Membership, Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory
from tests.weak_supervision.factories import keyword_lf
from weak_supervision.models import LabelingFunction, LabelModelRun

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_a_data_scientist_writes_edits_and_lists_lfs(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    api = api_client_for(member_factory(project, Role.DATA_SCIENTIST).user)
    base = f"/api/projects/{project.slug}/labeling-functions/"

    created = api.post(base, {"name": "prize", "kind": "keyword", "label": "spam",
                              "spec": {"keywords": ["prize"]}}, format="json")  # fmt: skip
    lf_id = created.json()["id"]
    edited = api.patch(f"{base}{lf_id}/", {"spec": {"keywords": ["prize", "win"]}}, format="json")
    versions = api.get(f"{base}{lf_id}/versions/")
    listed = api.get(base)

    assert created.status_code == 201
    assert created.json()["current_version"]["number"] == 1
    assert edited.json()["current_version"]["spec"]["keywords"] == ["prize", "win"]
    assert [v["number"] for v in versions.json()] == [1, 2]
    assert [row["name"] for row in listed.json()["results"]] == ["prize"]


def test_errors_are_400s_with_a_message_and_analysts_may_not_write(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    scientist = api_client_for(member_factory(project, Role.DATA_SCIENTIST).user)
    analyst = api_client_for(member_factory(project, Role.ANALYST).user)
    base = f"/api/projects/{project.slug}/labeling-functions/"
    body = {"name": "re", "kind": "regex", "label": "spam", "spec": {"pattern": "(oops"}}

    bad = scientist.post(base, body, format="json")
    denied = analyst.post(base, {**body, "spec": {"pattern": "ok"}}, format="json")
    run_denied = analyst.post(f"/api/projects/{project.slug}/runs/", {}, format="json")
    too_few = scientist.post(f"/api/projects/{project.slug}/runs/", {}, format="json")

    assert bad.status_code == 400
    assert bad.json()["code"] == "pattern"
    assert "does not compile" in bad.json()["detail"]
    assert (denied.status_code, run_denied.status_code) == (403, 403)
    assert too_few.status_code == 400
    assert too_few.json()["code"] == "too_few_lfs"
    assert LabelingFunction.objects.count() == 0
    assert LabelModelRun.objects.count() == 0


def test_preview_shows_coverage_matches_conflicts_and_accuracy(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    # given three items, two with gold labels, and an existing rule that votes ham on "lunch"
    win = ItemFactory(project=project, text="You win a prize")
    lunch = ItemFactory(project=project, text="Prize lunch today")
    ItemFactory(project=project, text="Nothing here")
    AnnotationFactory(item=win, labels=["spam"])
    AnnotationFactory(item=lunch, labels=["ham"])
    keyword_lf(project, "lunch", "ham", "lunch")
    api = api_client_for(member_factory(project, Role.DATA_SCIENTIST).user)

    # when
    rule = {"kind": "keyword", "label": "spam", "spec": {"keywords": ["prize"]}}
    response = api.post(f"/api/projects/{project.slug}/labeling-functions/preview/", rule, format="json")

    # then
    body = response.json()
    assert response.status_code == 200
    assert (body["sample_size"], body["matched"], body["coverage"]) == (3, 2, round(2 / 3, 4))
    assert (body["overlaps"], body["conflicts"]) == (round(1 / 3, 4), round(1 / 3, 4))
    assert (body["correct"], body["incorrect"], body["empirical_accuracy"]) == (1, 1, 0.5)
    assert [(m["text"], m["start"], m["end"]) for m in body["matches"]] == [
        ("You win a prize", 10, 15), ("Prize lunch today", 0, 5),
    ]  # fmt: skip


def test_a_run_over_the_api_reports_progress_and_metrics(
    project: Project,
    member_factory: Callable[..., Membership],
    api_client_for: Callable[..., APIClient],
    django_capture_on_commit_callbacks: Any,
) -> None:
    for index in range(6):
        ItemFactory(project=project, text="free prize" if index % 2 else "home")
    for name, label, word in [("a", "spam", "free"), ("b", "spam", "prize"), ("c", "ham", "home")]:
        keyword_lf(project, name, label, word)
    api = api_client_for(member_factory(project, Role.OWNER).user)

    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(f"/api/projects/{project.slug}/runs/", {}, format="json")
    detail = api.get(f"/api/projects/{project.slug}/runs/1/")

    assert started.status_code == 202
    body = detail.json()
    assert (body["status"], body["progress"]["percent"], body["item_count"]) == ("succeeded", 100, 6)
    assert body["metrics"]["coverage"] == 1.0
    assert [row["name"] for row in body["lf_analysis"]] == ["a", "b", "c"]
    assert api.get(f"/api/projects/{project.slug}/runs/9/").status_code == 404


def test_external_votes_are_posted_all_or_none(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    # given
    ItemFactory(project=project, external_id="a")
    ItemFactory(project=project, external_id="b")
    api = api_client_for(member_factory(project, Role.DATA_SCIENTIST).user)
    url = f"/api/projects/{project.slug}/labeling-functions/external-votes/"

    # when
    both = [{"external_id": "a", "label": "spam"}, {"external_id": "b", "label": "ham"}]
    first = api.post(url, {"name": "vendor-model", "votes": both}, format="json")
    again = api.post(
        url, {"name": "vendor-model", "votes": [{"external_id": "b", "label": None}]}, format="json"
    )
    unknown = [{"external_id": "a", "label": "ham"}, {"external_id": "zzz", "label": "spam"}]
    bad = api.post(url, {"name": "vendor-model", "votes": unknown}, format="json")

    # then
    assert first.status_code == 200
    assert (first.json()["labeling_function"]["kind"], first.json()["votes"]) == ("external", 2)
    assert again.json()["votes"] == 0
    assert bad.status_code == 400
    assert bad.json()["detail"] == "Vote 2: no item with external id 'zzz' in this project."
    lf = LabelingFunction.objects.get(name="vendor-model")
    assert list(lf.votes.values_list("item__external_id", "label__key")) == [("a", "spam")]


def test_a_second_run_start_while_one_is_under_way_answers_200_with_it(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    # given a run that no worker took yet (the test never commits, so its task waits)
    ItemFactory.create_batch(3, project=project)
    for name in ("a", "b", "c"):
        keyword_lf(project, name, "spam", name)
    api = api_client_for(member_factory(project, Role.DATA_SCIENTIST).user)
    first = api.post(f"/api/projects/{project.slug}/runs/", {}, format="json")

    # when
    second = api.post(f"/api/projects/{project.slug}/runs/", {}, format="json")

    # then
    assert (first.status_code, second.status_code) == (202, 200)
    assert (first.json()["number"], second.json()["number"], second.json()["status"]) == (1, 1, "pending")
    assert LabelModelRun.objects.filter(project=project).count() == 1
