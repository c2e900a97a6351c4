from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Max, QuerySet, Sum
from django.utils import timezone

from accounts.models import ApiToken
from core.queries import datetime_from_db, models_from_sql


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


# Every API request authenticates through this read: one statement written out (the ORM's select_related
# costs about 0.6 ms of CPU per request to build), the user read whole, the token's few columns beside it.
# projects.selectors extends it with the caller's membership of the project in the URL.
TOKEN_COLUMNS = (
    "u.*, t.id AS token_id, t.name AS token_name, t.prefix AS token_prefix, t.expires_at AS token_expires_at,"
    " t.last_used_at AS token_last_used_at"
)
TOKEN_FROM = f"{User._meta.db_table} u JOIN {ApiToken._meta.db_table} t ON t.user_id = u.id"
_TOKEN_WITH_USER = f"SELECT {TOKEN_COLUMNS} FROM {TOKEN_FROM} WHERE t.digest = %s"


def api_token_get_for_key(*, key: str) -> ApiToken | None:
    """The token with this key, its user attached, or None."""
    digest = ApiToken.digest_of(key)
    found = models_from_sql(User, _TOKEN_WITH_USER, [digest])
    return api_token_of_row(found[0], digest) if found else None


def api_token_of_row(user: User, digest: str) -> ApiToken | None:
    """The token read beside its user by a statement that selects TOKEN_COLUMNS (None: a row without one)."""
    row = cast(Any, user)
    expires_at = datetime_from_db(row.token_expires_at)
    if expires_at is None:  # the column is NOT NULL: never
        return None
    return ApiToken(
        pk=row.token_id, user=user, name=row.token_name, prefix=row.token_prefix, digest=digest,
        expires_at=expires_at, last_used_at=datetime_from_db(row.token_last_used_at),
    )  # fmt: skip


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
