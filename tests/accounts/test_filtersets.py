"""ApiTokenFilterSet read alike by the account page and the tokens endpoint (core.filtersets)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import api_token_create
from tests.projects.factories import UserFactory

pytestmark = pytest.mark.django_db


def _doors() -> tuple[Client, APIClient, object]:
    user = UserFactory()
    client, api = Client(), APIClient()
    client.force_login(user)
    api.force_authenticate(user=user)
    return client, api, user


def test_tokens_same_rows_on_page_and_api() -> None:
    # given
    client, api_client, user = _doors()
    laptop = api_token_create(user=user, name="laptop-cli").token
    api_token_create(user=user, name="ci-runner")
    old = api_token_create(user=user, name="old-laptop").token
    ApiToken.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=1))

    # when
    page = client.get("/accounts/me/?q=laptop&expired=false")
    api = api_client.get("/api/auth/tokens/?q=laptop&expired=false")

    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert "laptop-cli" in html
    assert "ci-runner" not in html
    assert "old-laptop" not in html
    assert [row["id"] for row in api.json()["results"]] == [laptop.pk]


def test_tokens_bad_value_refused_on_page_and_api() -> None:
    # given
    client, api_client, user = _doors()
    api_token_create(user=user, name="laptop-cli")

    # when
    page = client.get("/accounts/me/?expired=soon")
    api = api_client.get("/api/auth/tokens/?expired=soon")

    # then
    assert api.status_code == 400
    assert "expired" in api.json()
    assert page.status_code == 200
    assert "expired:" in page.content.decode()
    assert "laptop-cli" not in page.content.decode()
