"""accounts.selectors.lockout_list: django-axes' records summed per username and per address."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

from accounts.selectors import lockout_list

pytestmark = pytest.mark.django_db


def _attempt(username: str, ip: str, failures: int, minutes_ago: int = 0) -> None:
    attempt = AccessAttempt.objects.create(
        username=username, ip_address=ip, user_agent=f"ua-{username}-{ip}", failures_since_start=failures,
        attempt_time=timezone.now() - timedelta(minutes=minutes_ago), get_data="", post_data="", http_accept="",
        path_info="/",
    )  # fmt: skip
    # attempt_time is set on creation whatever is passed
    AccessAttempt.objects.filter(pk=attempt.pk).update(
        attempt_time=timezone.now() - timedelta(minutes=minutes_ago)
    )


def test_lockouts_sum_failures_per_username_and_per_address(settings: object) -> None:
    # given
    settings.AXES_FAILURE_LIMIT = 3  # type: ignore[attr-defined]
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)  # type: ignore[attr-defined]
    _attempt("ann", "10.0.0.1", 2)
    _attempt("ann", "10.0.0.2", 1)  # ann: 3 from two addresses
    _attempt("bob", "10.0.0.3", 2)  # bob: 2, not locked
    _attempt("cyd", "10.0.0.3", 1)  # 10.0.0.3: 3 over two usernames
    _attempt("old", "10.0.0.9", 9, minutes_ago=30)  # cooled off

    # when
    lockouts = lockout_list()
    for_members = lockout_list(usernames=["bob", "ann"])

    # then
    assert [(x.kind, x.value, x.failures) for x in lockouts] == [
        ("username", "ann", 3), ("ip_address", "10.0.0.3", 3),
    ]  # fmt: skip
    assert lockouts[0].until is not None
    assert [(x.kind, x.value) for x in for_members] == [("username", "ann")]


def test_permanent_lockouts_have_no_end(settings: object) -> None:
    # given
    settings.AXES_FAILURE_LIMIT = 3  # type: ignore[attr-defined]
    settings.AXES_COOLOFF_TIME = None  # type: ignore[attr-defined]
    _attempt("old", "10.0.0.9", 9, minutes_ago=600)

    # when
    lockouts = lockout_list(usernames=["old"])

    # then
    assert [(x.value, x.until) for x in lockouts] == [("old", None)]
