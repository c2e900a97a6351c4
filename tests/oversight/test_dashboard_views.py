"""The oversight dashboard page: who may see it, what it shows, and a bounded number of queries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from labeling.models import GoldLabel
from projects.choices import Role
from projects.models import Membership, Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory
from weak_supervision.models import LabelModelRun

pytestmark = pytest.mark.django_db


def _url(project: Project) -> str:
    return reverse("oversight:project-dashboard", args=[project.slug])


def _gold_checks(project: Project, answers: dict[Any, list[str]], n: int = 3) -> None:
    """n gold checks whose answer is spam; each user answers the i-th with answers[user][i]."""
    for index in range(n):
        item = ItemFactory(project=project)
        GoldLabel.objects.create(project=project, item=item, labels=["spam"], is_check=True)
        for user, labels in answers.items():
            AnnotationFactory(item=item, annotator=user, labels=[labels[index]])


def _run(project: Project) -> LabelModelRun:
    return LabelModelRun.objects.create(
        project=project, number=4, status="succeeded", item_count=3,
        metrics={"coverage": 0.75, "n_items": 3, "splits": {"all": {
            "n_items": 3, "n_gold": 3, "coverage": 0.75,
            "label_model": {"accuracy": 0.9123, "macro_f1": 0.8, "f1": {}},
            "majority_vote": {"accuracy": 0.7, "macro_f1": 0.6, "f1": {}},
        }}},
        lf_analysis=[{"name": "has_<link>", "coverage": 0.5, "empirical_accuracy": 1.0}],
    )  # fmt: skip


@pytest.fixture
def flagged_project(member_factory: Callable[..., Membership]) -> tuple[Project, Any]:
    """Owner olga; analyst ann answers 3 of 3 gold checks right, analyst bo 1 of 3 (below 80 % after 3)."""
    project = ProjectFactory(gold_min_checks=3)
    owner = member_factory(project, Role.OWNER, username="olga").user
    ann = member_factory(project, Role.ANALYST, username="ann").user
    bo = member_factory(project, Role.ANALYST, username="bo").user
    _gold_checks(project, {ann: ["spam"] * 3, bo: ["spam", "ham", "ham"]})
    return project, owner


def test_owner_sees_every_section_and_the_analyst_below_threshold(
    flagged_project: tuple[Project, Any], client_for: Callable[..., Client]
) -> None:
    # given
    project, owner = flagged_project
    _run(project)

    # when
    response = client_for(owner).get(_url(project))

    # then
    assert response.status_code == 200
    html = response.content.decode()
    for section in ("below-threshold", "progress", "label-distribution", "agreement", "annotators"):
        assert f'id="{section}"' in html
    alert = html[html.index('id="below-threshold"') : html.index('id="headline"')]
    assert "<b>bo</b>: 33.3% correct (1 of 3 checks; 95% interval 6.2%\u201379.2%)" in alert
    assert "<b>ann</b>" not in alert
    assert "Send their labels to review" in alert
    assert '<span class="badge danger" title="Below the gold-check threshold">' in html
    assert (
        f'href="{reverse("oversight-api:annotator-export", args=[project.slug])}" download>Download CSV'
        in html
    )
    assert f'href="{reverse("weak_supervision:run-detail", args=[project.slug, 4])}">run #4</a>' in html
    assert "has_&lt;link&gt;" in html
    assert '<td class="num">91.2%</td>' in html
    assert 'aria-label="Annotations per label"' in html
    assert 'class="active">Dashboard</a>' in html


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.DATA_SCIENTIST])
def test_reviewers_and_data_scientists_see_the_table_but_not_the_owners_alert(
    role: str,
    flagged_project: tuple[Project, Any],
    member_factory: Callable[..., Membership],
    client_for: Callable[..., Client],
) -> None:
    # given
    project, _ = flagged_project
    user = member_factory(project, role).user

    # when
    response = client_for(user).get(_url(project))

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="below-threshold"' not in html
    assert [row["username"] for row in response.context["annotators"]] == ["ann", "bo"]
    assert 'id="weak-supervision"' not in html  # no run yet


def test_analyst_gets_403_and_no_dashboard_tab(
    flagged_project: tuple[Project, Any], client_for: Callable[..., Client]
) -> None:
    # given
    project, _ = flagged_project
    analyst = Membership.objects.get(project=project, user__username="bo").user
    client = client_for(analyst)

    # when
    response = client.get(_url(project))
    overview = client.get(project.get_absolute_url())

    # then
    assert response.status_code == 403
    assert overview.status_code == 200
    assert _url(project) not in overview.content.decode()


def test_owner_sees_the_dashboard_tab_on_the_overview(
    flagged_project: tuple[Project, Any], client_for: Callable[..., Client]
) -> None:
    # given
    project, owner = flagged_project

    # when
    response = client_for(owner).get(project.get_absolute_url())

    # then
    assert f'<a href="{_url(project)}" >Dashboard</a>' in response.content.decode()


def test_outsider_gets_404_and_anonymous_is_sent_to_log_in(
    flagged_project: tuple[Project, Any], client: Client, client_for: Callable[..., Client]
) -> None:
    # given
    project, _ = flagged_project

    # when
    outsider = client_for(UserFactory()).get(_url(project))
    anonymous = client.get(_url(project))

    # then
    assert outsider.status_code == 404
    assert anonymous.status_code == 302
    assert anonymous["Location"] == f"/accounts/login/?next={_url(project)}"


def test_empty_project_renders(
    member_factory: Callable[..., Membership], client_for: Callable[..., Client]
) -> None:
    # given
    project = ProjectFactory()
    owner = member_factory(project, Role.OWNER).user

    # when
    response = client_for(owner).get(_url(project))

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "No annotations yet." in html
    assert "No item has two annotations yet" in html
    assert "Nobody has labeled in this project yet." in html


@pytest.mark.parametrize("checks", [3, 12])
def test_query_count_does_not_grow_with_items_or_annotators(
    checks: int,
    member_factory: Callable[..., Membership],
    client_for: Callable[..., Client],
    django_assert_max_num_queries: Any,
) -> None:
    # given: 2 or 6 analysts answering 3 or 12 gold checks, and a run
    project = ProjectFactory(gold_min_checks=3)
    owner = member_factory(project, Role.OWNER).user
    analysts = [member_factory(project, Role.ANALYST).user for _ in range(checks // 2)]
    _gold_checks(project, {user: ["ham"] * checks for user in analysts}, n=checks)
    _run(project)
    client = client_for(owner)

    # when: session, user, project, role (4); counts (5); annotator table (7); latest run (1); progress (2);
    # label names (1); agreement, its cache key and its reads (3)
    with django_assert_max_num_queries(30):
        response = client.get(_url(project))

    # then
    assert response.status_code == 200
    assert len(response.context["below_threshold"]) == checks // 2
