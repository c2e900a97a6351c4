"""The label-errors page: who may see it, what it shows, the start button (wiring and errors; the scan itself
is tested in tests/oversight/services/test_label_errors.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from oversight.models import LabelErrorScan
from oversight.services.label_errors import label_error_scan_execute, label_error_scan_start
from projects.choices import Role
from projects.models import Membership
from tests.oversight.factories import separable_project
from tests.projects.factories import ProjectFactory

pytestmark = pytest.mark.django_db

MemberFactory = Callable[..., Membership]
Clients = Callable[..., Client]
HTMX = {"HX-Request": "true"}


def test_the_page_without_a_scan_offers_to_start_one(
    member_factory: MemberFactory, client_for: Clients
) -> None:
    # given
    project = ProjectFactory()
    client = client_for(member_factory(project, Role.OWNER).user)

    # when
    response = client.get(f"/projects/{project.slug}/label-errors/")

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "No scan yet." in html
    assert "Find label errors" in html
    assert 'id="label-error-table"' not in html
    assert 'hx-trigger="every 2s"' not in html


def test_the_page_shows_the_latest_scans_suspects_ranked(
    member_factory: MemberFactory, client_for: Clients
) -> None:
    # given a finished scan
    project, _ = separable_project()
    started = label_error_scan_start(project=project, user=None, enqueue=False)
    scan = label_error_scan_execute(scan_id=started.job.pk)
    client = client_for(member_factory(project, Role.REVIEWER).user)

    # when
    html = client.get(f"/projects/{project.slug}/label-errors/").content.decode()

    # then
    assert "Latest results: scan #1" in html
    assert 'id="label-error-table"' in html
    first = scan.issues.order_by("rank").select_related("item").first()
    assert first is not None
    assert first.item.external_id in html
    assert f"/projects/{project.slug}/items/{first.item_id}/" in html
    assert "labels checked" in html


def test_the_start_button_starts_a_scan_and_a_second_click_joins_it(
    member_factory: MemberFactory, client_for: Clients
) -> None:
    # given labeled items, and no worker taking the scan (the test never commits)
    project, _ = separable_project(n=30)
    client = client_for(member_factory(project, Role.DATA_SCIENTIST).user)

    # when
    first = client.post(f"/projects/{project.slug}/label-errors/scans/", headers=HTMX)
    second = client.post(f"/projects/{project.slug}/label-errors/scans/", headers=HTMX)
    page = client.get(f"/projects/{project.slug}/label-errors/").content.decode()

    # then
    assert first["HX-Redirect"] == second["HX-Redirect"] == f"/projects/{project.slug}/label-errors/"
    assert list(LabelErrorScan.objects.values_list("number", "status", "trigger")) == [(1, "pending", "ui")]
    assert 'hx-trigger="every 2s"' in page


def test_a_scan_that_cannot_start_says_why_with_a_422(
    member_factory: MemberFactory, client_for: Clients
) -> None:
    # given a project without labels
    project = ProjectFactory()
    client = client_for(member_factory(project, Role.OWNER).user)

    # when
    response = client.post(f"/projects/{project.slug}/label-errors/scans/", headers=HTMX)

    # then
    assert response.status_code == 422
    assert "Too few labeled items" in response.content.decode()
    assert not LabelErrorScan.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_analyst_may_not_see_the_page_nor_start_a_scan(
    method: str, member_factory: MemberFactory, client_for: Clients
) -> None:
    # given
    project, _ = separable_project(n=30)
    path = "label-errors/" if method == "get" else "label-errors/scans/"

    # when
    response = getattr(client_for(member_factory(project, Role.ANALYST).user), method)(
        f"/projects/{project.slug}/{path}"
    )

    # then
    assert response.status_code == 403
    assert not LabelErrorScan.objects.exists()


def test_the_project_tabs_link_the_page_for_those_who_oversee(
    member_factory: MemberFactory, client_for: Clients
) -> None:
    # given
    project = ProjectFactory()
    owner = client_for(member_factory(project, Role.OWNER).user)
    analyst = client_for(member_factory(project, Role.ANALYST).user)

    # when
    seen = owner.get(f"/projects/{project.slug}/label-errors/").content.decode()
    hidden = analyst.get(f"/projects/{project.slug}/").content.decode()

    # then
    assert f'href="/projects/{project.slug}/label-errors/"' in seen
    assert f'href="/projects/{project.slug}/label-errors/"' not in hidden
