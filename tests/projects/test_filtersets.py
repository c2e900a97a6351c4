"""One FilterSet per list, read alike by the page and the API: the same query string lists the same rows
through both doors, and a refused value is a 400 naming the filter on the API and a 200 with the error shown
and no rows on the page (core.filtersets)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from projects.choices import Role
from projects.models import Membership
from tests.doors import doors_of
from tests.projects.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def test_projects_same_rows_on_page_and_api() -> None:
    # given
    alpha, beta = ProjectFactory(name="Alpha spam"), ProjectFactory(name="Beta reviews")
    client, api_client = doors_of(alpha, beta)

    # when
    page = client.get("/projects/?q=spam")
    api = api_client.get("/api/projects/?q=spam")

    # then
    assert page.status_code == 200
    assert alpha.slug in page.content.decode()
    assert beta.slug not in page.content.decode()
    assert api.status_code == 200
    assert [row["slug"] for row in api.json()["results"]] == [alpha.slug]


def test_projects_bad_value_refused_on_page_and_api() -> None:
    # given
    project = ProjectFactory()
    client, api_client = doors_of(project)

    # when
    page = client.get("/projects/?multi_label=perhaps")
    api = api_client.get("/api/projects/?multi_label=perhaps")

    # then
    assert api.status_code == 400
    assert "multi_label" in api.json()
    assert page.status_code == 200
    html = page.content.decode()
    assert "multi_label:" in html
    assert project.slug not in html.split("<aside", 1)[0]


def test_members_same_rows_on_page_and_api(member_factory: Callable[..., Membership]) -> None:
    # given
    project = ProjectFactory()
    client, api_client = doors_of(project)
    reviewer = member_factory(project, Role.REVIEWER, username="rita-reviewer")
    analyst = member_factory(project, Role.ANALYST, username="andy-analyst")

    # when
    page = client.get(f"/projects/{project.slug}/members/?role=reviewer")
    api = api_client.get(f"/api/projects/{project.slug}/members/?role=reviewer")

    # then
    assert page.status_code == 200
    assert reviewer.user.username in page.content.decode()
    assert analyst.user.username not in page.content.decode()
    assert api.status_code == 200
    assert [row["username"] for row in api.json()] == ["rita-reviewer"]


def test_members_bad_value_refused_on_page_and_api(member_factory: Callable[..., Membership]) -> None:
    # given
    project = ProjectFactory()
    client, api_client = doors_of(project)
    member_factory(project, Role.ANALYST, username="andy-analyst")

    # when
    page = client.get(f"/projects/{project.slug}/members/?role=boss")
    api = api_client.get(f"/api/projects/{project.slug}/members/?role=boss")

    # then
    assert api.status_code == 400
    assert "role" in api.json()
    assert page.status_code == 200
    assert "role:" in page.content.decode()
    assert "andy-analyst" not in page.content.decode()
