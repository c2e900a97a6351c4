"""The Members page (projects.views): owners create accounts with a set-password link, hand out a new
link, and lift their members' login lockouts."""

from __future__ import annotations

import html
from collections.abc import Callable

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from accounts.services import ERROR_LINK_FOR_ACTIVE_ACCOUNT, ERROR_USERNAME_TAKEN, account_create
from projects.choices import Role
from projects.models import Membership, Project

pytestmark = pytest.mark.django_db


def test_owner_creates_an_account_and_sees_its_link(
    project: Project, member_factory: Callable[..., Membership], client_for: Callable[..., Client]
) -> None:
    # given
    owner = member_factory(project, Role.OWNER).user

    # when
    response = client_for(owner).post(
        f"/projects/{project.slug}/members/new-account/",
        {"account-username": "nina", "account-email": "nina@example.org", "account-role": Role.REVIEWER},
        HTTP_HX_REQUEST="true",
    )

    # then
    user = User.objects.get(username="nina")
    link = response.context["set_password_link"]
    assert response.status_code == 200
    assert link.startswith("http://testserver/accounts/set-password/")
    assert link in response.content.decode()
    assert Membership.objects.get(user=user).role == Role.REVIEWER
    assert not user.has_usable_password()
    assert "no password yet" in response.content.decode()


def test_account_with_a_taken_username_is_422_and_creates_nothing(
    project: Project, member_factory: Callable[..., Membership], client_for: Callable[..., Client]
) -> None:
    # given
    owner = member_factory(project, Role.OWNER, username="olive").user

    # when
    response = client_for(owner).post(
        f"/projects/{project.slug}/members/new-account/",
        {"account-username": "olive", "account-role": Role.ANALYST}, HTTP_HX_REQUEST="true",
    )  # fmt: skip

    # then
    assert response.status_code == 422
    assert ERROR_USERNAME_TAKEN.format(username="olive") in html.unescape(response.content.decode())
    assert User.objects.count() == 1
    assert Membership.objects.count() == 1


def test_analyst_cannot_create_accounts(
    project: Project, member_factory: Callable[..., Membership], client_for: Callable[..., Client]
) -> None:
    # given
    analyst = member_factory(project, Role.ANALYST).user

    # when
    response = client_for(analyst).post(
        f"/projects/{project.slug}/members/new-account/",
        {"account-username": "nina", "account-role": Role.OWNER},
    )

    # then
    assert response.status_code == 403
    assert not User.objects.filter(username="nina").exists()


def test_new_link_for_a_pending_member_and_never_for_an_active_one(
    project: Project, member_factory: Callable[..., Membership], client_for: Callable[..., Client]
) -> None:
    # given
    owner = member_factory(project, Role.OWNER).user
    pending = account_create(username="nina")
    Membership.objects.create(project=project, user=pending, role=Role.ANALYST)
    active = member_factory(project, Role.ANALYST, username="adam").user
    client = client_for(owner)

    # when
    fresh = client.post(
        f"/projects/{project.slug}/members/{pending.pk}/set-password-link/", HTTP_HX_REQUEST="true"
    )
    refused = client.post(
        f"/projects/{project.slug}/members/{active.pk}/set-password-link/", HTTP_HX_REQUEST="true"
    )

    # then
    assert fresh.status_code == 200
    assert fresh.context["set_password_link"].startswith("http://testserver/accounts/set-password/")
    assert refused.status_code == 422
    assert ERROR_LINK_FOR_ACTIVE_ACCOUNT.format(username="adam") in html.unescape(refused.content.decode())
    assert "set_password_link" not in refused.context or not refused.context["set_password_link"]


def test_no_link_for_someone_outside_the_project(
    project: Project, member_factory: Callable[..., Membership], client_for: Callable[..., Client]
) -> None:
    # given
    owner = member_factory(project, Role.OWNER).user
    stranger = account_create(username="nina")

    # when
    response = client_for(owner).post(f"/projects/{project.slug}/members/{stranger.pk}/set-password-link/")

    # then
    assert response.status_code == 404


def test_owner_sees_and_lifts_a_members_lockout(
    project: Project,
    member_factory: Callable[..., Membership],
    client_for: Callable[..., Client],
    settings: object,
) -> None:
    # given
    settings.AXES_FAILURE_LIMIT = 3  # type: ignore[attr-defined]
    owner = member_factory(project, Role.OWNER).user
    locked = member_factory(project, Role.ANALYST, username="ann").user
    for ip in ["10.0.0.1", "10.0.0.2"]:
        AccessAttempt.objects.create(
            username="ann", ip_address=ip, user_agent="ua", failures_since_start=2, attempt_time=timezone.now(),
            get_data="", post_data="", http_accept="", path_info="/",
        )  # fmt: skip
    AccessAttempt.objects.create(
        username="stranger", ip_address="10.0.0.3", user_agent="ua", failures_since_start=9,
        attempt_time=timezone.now(), get_data="", post_data="", http_accept="", path_info="/",
    )  # fmt: skip
    client = client_for(owner)

    # when
    page = client.get(f"/projects/{project.slug}/members/")
    lifted = client.post(
        f"/projects/{project.slug}/members/{locked.pk}/lift-lockout/", HTTP_HX_REQUEST="true"
    )

    # then
    assert page.context["locked_out"] == {"ann"}
    assert "Lift lockout" in page.content.decode()
    assert lifted.status_code == 200
    assert lifted.context["locked_out"] == set()
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["stranger"]


def test_analyst_cannot_lift_lockouts(
    project: Project, member_factory: Callable[..., Membership], client_for: Callable[..., Client]
) -> None:
    # given
    analyst = member_factory(project, Role.ANALYST).user
    AccessAttempt.objects.create(
        username=analyst.username, ip_address="10.0.0.1", user_agent="ua", failures_since_start=99,
        attempt_time=timezone.now(), get_data="", post_data="", http_accept="", path_info="/",
    )  # fmt: skip

    # when
    response = client_for(analyst).post(f"/projects/{project.slug}/members/{analyst.pk}/lift-lockout/")

    # then
    assert response.status_code == 403
    assert AccessAttempt.objects.count() == 1
