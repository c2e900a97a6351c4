"""core.csp.CSPMiddleware: the header django-csp would build, built once per settings, and django-csp itself
for responses that change their policy."""

from __future__ import annotations

from typing import Any

import pytest
from csp.constants import NONE, SELF
from csp.utils import build_policy
from django.test import Client

from tests.security.test_accounts import EXPECTED_CSP

pytestmark = pytest.mark.django_db


def _directives(policy: str) -> set[str]:
    return set(policy.split("; "))


def test_a_plain_response_carries_the_policy_django_csp_builds() -> None:
    # when two responses are served
    first, second = Client().get("/accounts/login/"), Client().get("/api/projects/")

    # then both carry the settings' policy, built once, as django-csp builds it (directives in any order)
    assert first["Content-Security-Policy"] is second["Content-Security-Policy"]
    assert _directives(first["Content-Security-Policy"]) == _directives(build_policy())
    assert _directives(build_policy()) == _directives(EXPECTED_CSP)
    assert "Content-Security-Policy-Report-Only" not in first


def test_changed_settings_give_the_changed_policy(settings: Any) -> None:
    # given a page served under the first policy
    Client().get("/accounts/login/")

    # when the settings change
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": [NONE]}}
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": [SELF]}}
    response = Client().get("/accounts/login/")

    # then the header follows them
    assert response["Content-Security-Policy"] == "default-src 'none'"
    assert response["Content-Security-Policy-Report-Only"] == "default-src 'self'"


def test_a_response_that_updates_its_policy_goes_through_django_csp() -> None:
    # when the API docs page, whose view relaxes styles (csp_update), is served
    response = Client().get("/api/redoc/")

    # then its own policy is the settings' plus its update
    assert "'unsafe-inline'" in response["Content-Security-Policy"]
    assert "worker-src 'self' blob:" in response["Content-Security-Policy"]
