"""My account (tokens, password change), the set-password link, the lockouts page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import account_create, api_token_create, set_password_link_create
from accounts.views import MESSAGE_PASSWORD_SET, MESSAGE_TOKEN_REVOKED
from tests.projects.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_account_page_issues_a_token_shown_once(client_for: Callable[..., Client]) -> None:
    # given
    user = UserFactory()
    client = client_for(user)

    # when
    created = client.post("/accounts/me/", {"name": "notebook"})
    again = client.get("/accounts/me/")

    # then
    token = ApiToken.objects.get(user=user)
    key = created.context["issued"].key
    assert created.status_code == 200
    assert key in created.content.decode()
    assert "no-store" in created["Cache-Control"]
    assert token.digest == ApiToken.digest_of(key)
    assert key not in again.content.decode()
    assert token.prefix in again.content.decode()
    assert "notebook" in again.content.decode()


def test_account_page_lists_only_own_tokens(client_for: Callable[..., Client]) -> None:
    # given
    user = UserFactory()
    api_token_create(user=user, name="mine")
    api_token_create(user=UserFactory(), name="someone-elses")

    # when
    response = client_for(user).get("/accounts/me/")

    # then
    assert [t.name for t in response.context["tokens"]] == ["mine"]
    assert "someone-elses" not in response.content.decode()


def test_account_page_revokes_own_token_only(client_for: Callable[..., Client]) -> None:
    # given
    user = UserFactory()
    mine, theirs = api_token_create(user=user).token, api_token_create(user=UserFactory()).token
    client = client_for(user)

    # when
    revoked = client.post(f"/accounts/me/tokens/{mine.pk}/revoke/", follow=True)
    refused = client.post(f"/accounts/me/tokens/{theirs.pk}/revoke/")

    # then
    assert MESSAGE_TOKEN_REVOKED in revoked.content.decode()
    assert refused.status_code == 404
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_account_page_needs_login() -> None:
    # when
    response = Client().get("/accounts/me/")

    # then
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_password_change_applies_the_validators(client_for: Callable[..., Client]) -> None:
    # given
    user = UserFactory(username="ann")
    client = client_for(user)

    # when
    weak = client.post(
        "/accounts/me/password/",
        {"old_password": "password123", "new_password1": "12345678", "new_password2": "12345678"},
    )
    good = client.post(
        "/accounts/me/password/",
        {
            "old_password": "password123",
            "new_password1": "violet-Harbour-93",
            "new_password2": "violet-Harbour-93",
        },
    )

    # then
    assert weak.status_code == 200
    assert weak.context["form"].errors["new_password2"] == [
        "This password is too common.", "This password is entirely numeric.",
    ]  # fmt: skip
    assert good.status_code == 302
    user.refresh_from_db()
    assert user.check_password("violet-Harbour-93")


def _set_password(client: Client, link: str, password: str) -> tuple[int, str]:
    page = client.get(link, follow=True)
    response = client.post(page.request["PATH_INFO"], {"new_password1": password, "new_password2": password})
    return response.status_code, page.request["PATH_INFO"]


def test_set_password_link_works_once() -> None:
    # given
    user = account_create(username="nina")
    link = set_password_link_create(user=user)

    # when
    status, _ = _set_password(Client(), link, "violet-Harbour-93")
    reused = Client().get(link, follow=True)

    # then
    user.refresh_from_db()
    assert status == 302
    assert user.check_password("violet-Harbour-93")
    assert reused.context["validlink"] is False
    assert "expired or has already been used" in reused.content.decode()


def test_set_password_link_refuses_a_weak_password() -> None:
    # given
    user = account_create(username="nina")
    client = Client()

    # when
    page = client.get(set_password_link_create(user=user), follow=True)
    response = client.post(page.request["PATH_INFO"], {"new_password1": "nina1", "new_password2": "nina1"})

    # then
    assert response.status_code == 200
    assert "This password is too short." in " ".join(response.context["form"].errors["new_password2"])
    user.refresh_from_db()
    assert not user.has_usable_password()


def test_set_password_link_expires(settings: object) -> None:
    # given
    user = account_create(username="nina")
    link = set_password_link_create(user=user)
    settings.PASSWORD_RESET_TIMEOUT = -1  # type: ignore[attr-defined]

    # when
    response = Client().get(link, follow=True)

    # then
    assert response.context["validlink"] is False


def test_set_password_then_log_in() -> None:
    # given
    user = account_create(username="nina")
    client = Client()

    # when
    page = client.get(set_password_link_create(user=user), follow=True)
    done = client.post(
        page.request["PATH_INFO"], {"new_password1": "violet-Harbour-93", "new_password2": "violet-Harbour-93"},
        follow=True,
    )  # fmt: skip
    login = client.post("/accounts/login/", {"username": "nina", "password": "violet-Harbour-93"})

    # then
    assert MESSAGE_PASSWORD_SET in done.content.decode()
    assert login.status_code == 302


def test_lockouts_page_is_for_staff_and_lifts(client_for: Callable[..., Client], settings: object) -> None:
    # given
    settings.AXES_FAILURE_LIMIT = 2  # type: ignore[attr-defined]
    AccessAttempt.objects.create(
        username="ann", ip_address="10.1.1.1", user_agent="ua", failures_since_start=5, attempt_time=timezone.now(),
        get_data="", post_data="", http_accept="", path_info="/",
    )  # fmt: skip
    staff = UserFactory(is_staff=True)
    analyst = UserFactory()

    # when
    refused = client_for(analyst).get("/accounts/lockouts/")
    page = client_for(staff).get("/accounts/lockouts/")
    client_for(staff).post("/accounts/lockouts/", {"kind": "ip_address", "value": "10.1.1.1"})

    # then
    assert refused.status_code == 302  # to the admin login
    assert [(x.kind, x.value) for x in page.context["lockouts"]] == [
        ("username", "ann"), ("ip_address", "10.1.1.1"),
    ]  # fmt: skip
    assert not AccessAttempt.objects.exists()
    assert User.objects.count() == 2
