"""The truth-inference page and the estimates on the dashboard: who may see them, what they show, the start
button (wiring and errors; the inference itself is tested in tests/oversight/services/test_truth.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from oversight.choices import JobStatus, SourceKind
from oversight.models import InferenceRun
from oversight.services.truth import ERROR_NO_ANSWERS
from projects.choices import Role
from projects.models import Membership, Project
from tests.labeling.factories import AnnotationFactory
from tests.oversight.factories import InferenceRunFactory, source_entry
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = pytest.mark.django_db

MemberFactory = Callable[..., Membership]
Clients = Callable[..., Client]
HTMX = {"HX-Request": "true"}
DASH = "\u2013"  # between an interval's ends


def _estimated(project: Project, member_factory: MemberFactory) -> dict[str, Membership]:
    """ana and bob answered an item; run #1 estimated them, an LF and the end model."""
    members = {name: member_factory(project, Role.ANALYST, username=name) for name in ("ana", "bob")}
    item = ItemFactory(project=project)
    for membership in members.values():
        AnnotationFactory(item=item, annotator=membership.user, labels=["spam"])
    InferenceRunFactory(
        project=project, number=1, created_by=members["ana"].user,
        sources=[
            source_entry(SourceKind.ANNOTATOR, "ana", 0.913, user_id=members["ana"].user.pk, interval=[0.85, 0.96]),
            source_entry(SourceKind.ANNOTATOR, "bob", 0.642, user_id=members["bob"].user.pk, interval=[0.5, 0.77]),
            source_entry(SourceKind.LABELING_FUNCTION, "prize_words", 0.8, lf_id=99, interval=[0.7, 0.88]),
            source_entry(SourceKind.END_MODEL, "end model", None),
        ],
    )  # fmt: skip
    return members


def test_the_page_without_a_run_offers_to_start_one(
    project: Project, owner: Any, client_for: Clients
) -> None:
    # when
    response = client_for(owner).get(f"/projects/{project.slug}/inference/")

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "No inference run yet." in html
    assert "Run truth inference" in html
    assert "data-start-button" in html
    assert 'hx-disabled-elt="find button[type=submit]"' in html
    assert 'id="source-table"' not in html
    assert 'hx-trigger="every 2s"' not in html


@pytest.mark.parametrize("role", [Role.OWNER, Role.REVIEWER, Role.DATA_SCIENTIST])
def test_the_page_shows_the_latest_runs_summary_and_every_sources_estimate(
    role: str, project: Project, member_factory: MemberFactory, client_for: Clients
) -> None:
    # given
    _estimated(project, member_factory)
    client = client_for(member_factory(project, role, username="vic").user)

    # when
    html = client.get(f"/projects/{project.slug}/inference/").content.decode()

    # then
    assert "Latest results: run #1" in html
    assert "chosen on 3 held-out gold items (dawid_skene 90.0%)" in html
    assert "<b>4</b><span>inferred label differs from the annotators' majority</span>" in html
    assert "<b>6</b><span>posterior under 70.0%</span>" in html
    assert "<b>12</b><span>iterations, converged</span>" in html
    assert '<td>Annotator</td><td class="num">2</td><td class="num">80</td>' in html
    assert "fitting 0.2 s, writing 0.3 s: 0.6 s in all" in html
    assert '<td class="num">91.3%</td>' in html
    assert f"85.0%{DASH}96.0%" in html
    assert '<td class="num">64.2%</td>' in html
    assert f"50.0%{DASH}77.0%" in html
    assert f'href="/projects/{project.slug}/labeling-functions/99/">prize_words</a>' in html
    assert '<th scope="row">ham</th><td class="num">91.3%</td><td class="num">8.7%</td>' in html


def test_the_page_follows_a_run_under_way_and_shows_the_previous_results(
    project: Project, member_factory: MemberFactory, client_for: Clients
) -> None:
    # given
    _estimated(project, member_factory)
    InferenceRunFactory(project=project, number=2, status=JobStatus.RUNNING, sources=[], metrics={})
    client = client_for(member_factory(project, Role.OWNER).user)

    # when
    page = client.get(f"/projects/{project.slug}/inference/").content.decode()
    poll = client.get(f"/projects/{project.slug}/inference/", headers=HTMX).content.decode()

    # then
    assert 'hx-trigger="every 2s"' in page
    assert 'Run #2: <span class="status status-running">Running</span>' in page
    assert "Latest results: run #1" in page
    assert 'id="inference"' in poll
    assert "<h1>" not in poll


def test_the_start_button_starts_a_run_and_a_second_click_joins_it(
    project: Project, member_factory: MemberFactory, client_for: Clients
) -> None:
    # given answers, and no worker taking the run (the test never commits)
    AnnotationFactory(item=ItemFactory(project=project), labels=["spam"])
    client = client_for(member_factory(project, Role.REVIEWER).user)

    # when
    first = client.post(f"/projects/{project.slug}/inference/runs/", headers=HTMX)
    second = client.post(f"/projects/{project.slug}/inference/runs/", headers=HTMX)
    page = client.get(f"/projects/{project.slug}/inference/").content.decode()

    # then
    assert first["HX-Redirect"] == second["HX-Redirect"] == f"/projects/{project.slug}/inference/"
    assert list(InferenceRun.objects.values_list("number", "status", "trigger")) == [(1, "pending", "ui")]
    assert "Inference run #1 started" in page or "Inference run #1 is already under way" in page


def test_a_run_that_cannot_start_says_why_with_a_422(
    project: Project, member_factory: MemberFactory, client_for: Clients
) -> None:
    # given items nobody answered
    ItemFactory(project=project)
    client = client_for(member_factory(project, Role.OWNER).user)

    # when
    response = client.post(f"/projects/{project.slug}/inference/runs/", headers=HTMX)

    # then
    assert response.status_code == 422
    assert ERROR_NO_ANSWERS in response.content.decode()
    assert not InferenceRun.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_analyst_may_not_see_the_page_nor_start_a_run(
    method: str, project: Project, member_factory: MemberFactory, client_for: Clients
) -> None:
    # given
    members = _estimated(project, member_factory)
    path = "inference/" if method == "get" else "inference/runs/"

    # when
    response = getattr(client_for(members["ana"].user), method)(f"/projects/{project.slug}/{path}")

    # then
    assert response.status_code == 403
    assert "64.2%" not in response.content.decode()
    assert list(InferenceRun.objects.values_list("number", flat=True)) == [1]


def test_the_dashboards_annotator_table_has_the_estimate_beside_the_gold_checks(
    member_factory: MemberFactory, client_for: Clients
) -> None:
    # given
    project = ProjectFactory()
    _estimated(project, member_factory)
    client = client_for(member_factory(project, Role.OWNER, username="olga").user)

    # when
    html = client.get(f"/projects/{project.slug}/dashboard/").content.decode()

    # then
    assert ">Estimated</th>" in html
    assert (
        f'data-value="0.913" title="Inference run #1">91.3% <span class="muted">[85.0%{DASH}96.0%]</span>'
        in html
    )
    assert 'data-value="0.642"' in html
    assert "<summary>per class</summary>" in html
    assert f'href="/projects/{project.slug}/inference/" >Inference</a>' in html
