"""The token API: obtain, list, issue, revoke; expired and revoked tokens answer 401 with a reason."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.authentication import ERROR_EXPIRED_TOKEN, ERROR_INVALID_TOKEN
from accounts.models import ApiToken
from accounts.services import api_token_create
from tests.projects.factories import UserFactory

pytestmark = pytest.mark.django_db


def _client_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_obtain_issues_a_new_named_token_each_time() -> None:
    # given
    UserFactory(username="ann")

    # when
    first = APIClient().post(
        "/api/auth/token/", {"username": "ann", "password": "password123"}, format="json"
    )
    second = APIClient().post(
        "/api/auth/token/", {"username": "ann", "password": "password123", "name": "ci"}, format="json"
    )

    # then
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.data["token"] != second.data["token"]
    assert sorted(ApiToken.objects.values_list("name", flat=True)) == ["API token", "ci"]


def test_obtain_with_form_data_works_as_before() -> None:
    # given
    UserFactory(username="ann")

    # when
    response = APIClient().post("/api/auth/token/", {"username": "ann", "password": "password123"})

    # then
    assert response.status_code == 200
    assert _client_with(response.data["token"]).get("/api/projects/").status_code == 200


def test_obtain_without_password_is_400() -> None:
    # when
    response = APIClient().post("/api/auth/token/", {"username": "ann"}, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {"password": ["This field is required."]}


def test_list_shows_own_tokens_without_keys(api_client_for: Callable[..., APIClient]) -> None:
    # given
    user = UserFactory()
    issued = api_token_create(user=user, name="mine")
    api_token_create(user=UserFactory(), name="theirs")

    # when
    response = api_client_for(user).get("/api/auth/tokens/")

    # then
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["name"] == "mine"
    assert row["id"] == issued.token.pk
    assert row["prefix"] == issued.key[:8]
    assert issued.key not in response.content.decode()
    assert set(row) == {"id", "name", "prefix", "created_at", "expires_at", "last_used_at"}


def test_issue_and_revoke_through_the_api() -> None:
    # given
    user = UserFactory()
    client = _client_with(api_token_create(user=user, name="login").key)

    # when
    created = client.post("/api/auth/tokens/", {"name": "cron"}, format="json")
    cron = _client_with(created.json()["token"])
    before = cron.get("/api/projects/")
    revoked = client.delete(f"/api/auth/tokens/{created.json()['id']}/")
    after = cron.get("/api/projects/")

    # then
    assert created.status_code == 201
    assert created.json()["name"] == "cron"
    assert before.status_code == 200
    assert revoked.status_code == 204
    assert after.status_code == 401
    assert after.json() == {"detail": ERROR_INVALID_TOKEN}
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["login"]


def test_revoking_anothers_token_is_404_and_changes_nothing(api_client_for: Callable[..., APIClient]) -> None:
    # given
    theirs = api_token_create(user=UserFactory()).token

    # when
    response = api_client_for(UserFactory()).delete(f"/api/auth/tokens/{theirs.pk}/")

    # then
    assert response.status_code == 404
    assert ApiToken.objects.filter(pk=theirs.pk).exists()


def test_expired_token_is_401_with_the_reason() -> None:
    # given
    issued = api_token_create(user=UserFactory())
    ApiToken.objects.update(expires_at=timezone.now())

    # when
    response = _client_with(issued.key).get("/api/projects/")

    # then
    assert response.status_code == 401
    assert response.json() == {"detail": ERROR_EXPIRED_TOKEN}
    assert response["WWW-Authenticate"] == "Token"


def test_token_of_an_inactive_user_is_401() -> None:
    # given
    user = UserFactory()
    issued = api_token_create(user=user)
    user.is_active = False
    user.save()

    # when
    response = _client_with(issued.key).get("/api/projects/")

    # then
    assert response.status_code == 401


def test_using_a_token_records_when() -> None:
    # given
    issued = api_token_create(user=UserFactory())

    # when
    _client_with(issued.key).get("/api/projects/")

    # then
    assert ApiToken.objects.get().last_used_at is not None


def test_tokens_endpoints_need_authentication() -> None:
    # when
    responses = [APIClient().get("/api/auth/tokens/"), APIClient().delete("/api/auth/tokens/1/")]

    # then
    assert [r.status_code for r in responses] == [401, 401]
