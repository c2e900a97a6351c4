from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Max, QuerySet, Sum
from django.utils import timezone

from accounts.models import ApiToken


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def api_token_get_for_key(*, key: str) -> ApiToken | None:
    return ApiToken.objects.select_related("user").filter(digest=ApiToken.digest_of(key)).first()


@dataclass(frozen=True)
class Lockout:
    """A username or a client address that may not log in now (django-axes' failed-attempt records)."""

    kind: Literal["username", "ip_address"]
    value: str
    failures: int
    last_failure: datetime
    until: datetime | None  # None: until lifted


def _lockouts(kind: Literal["username", "ip_address"], attempts: QuerySet[AccessAttempt]) -> list[Lockout]:
    cool_off = settings.AXES_COOLOFF_TIME
    if kind == "username":
        attempts = attempts.exclude(username="")
    rows = (
        attempts.exclude(**{f"{kind}__isnull": True})
        .values(kind).annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT).order_by(kind)
    )  # fmt: skip
    return [
        Lockout(
            kind=kind,
            value=row[kind],
            failures=row["failures"],
            last_failure=row["last"],
            until=row["last"] + cool_off if cool_off else None,
        )
        for row in rows
    ]


def lockout_list(*, usernames: Iterable[str] | None = None) -> list[Lockout]:
    """Lockouts in force, as django-axes counts them: failures per username and per client address.

    With `usernames`, only those usernames' lockouts (what a project owner may lift for her members).
    """
    attempts = AccessAttempt.objects.all()
    if settings.AXES_COOLOFF_TIME:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME)
    if usernames is not None:
        return _lockouts("username", attempts.filter(username__in=list(usernames)))
    return _lockouts("username", attempts) + _lockouts("ip_address", attempts)
