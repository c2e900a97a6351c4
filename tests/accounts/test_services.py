"""accounts.services: API tokens, accounts made by owners, set-password links, lockouts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import (
    DEFAULT_TOKEN_NAME,
    ERROR_LINK_FOR_ACTIVE_ACCOUNT,
    ERROR_TOKEN_NAME_TOO_LONG,
    ERROR_TOKEN_NOT_FOUND,
    ERROR_USERNAME_TAKEN,
    account_create,
    api_token_create,
    api_token_revoke,
    api_token_touch,
    lockout_lift,
    set_password_link_create,
)
from core.exceptions import NotFoundError
from tests.projects.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_token_create_stores_only_a_digest_and_expires_after_the_ttl(settings: object) -> None:
    # given
    user = UserFactory()
    before = timezone.now()

    # when
    issued = api_token_create(user=user, name="nightly export")

    # then
    token = ApiToken.objects.get()
    assert len(issued.key) == 40
    assert token.digest == ApiToken.digest_of(issued.key)
    assert issued.key not in {token.digest, token.prefix, token.name}
    assert token.prefix == issued.key[:8]
    assert (token.user, token.name) == (user, "nightly export")
    assert before + timedelta(days=30) <= token.expires_at <= timezone.now() + timedelta(days=30)


def test_token_ttl_comes_from_settings(settings: object) -> None:
    # given
    settings.API_TOKEN_TTL = timedelta(days=2)  # type: ignore[attr-defined]

    # when
    issued = api_token_create(user=UserFactory())

    # then
    assert issued.token.name == DEFAULT_TOKEN_NAME
    assert (
        timedelta(days=2) - timedelta(minutes=1)
        < issued.token.expires_at - timezone.now()
        <= timedelta(days=2)
    )


def test_token_create_deletes_the_users_expired_tokens_only() -> None:
    # given
    user, other = UserFactory(), UserFactory()
    expired = api_token_create(user=user).token
    others_expired = api_token_create(user=other).token
    ApiToken.objects.filter(pk__in=[expired.pk, others_expired.pk]).update(expires_at=timezone.now())
    live = api_token_create(user=user).token

    # when
    new = api_token_create(user=user).token

    # then
    assert set(ApiToken.objects.values_list("pk", flat=True)) == {others_expired.pk, live.pk, new.pk}


def test_token_name_too_long_is_refused() -> None:
    # given
    user = UserFactory()

    # when
    with pytest.raises(ValidationError) as info:
        api_token_create(user=user, name="x" * 101)

    # then
    assert info.value.message_dict == {"name": [ERROR_TOKEN_NAME_TOO_LONG.format(limit=100)]}
    assert not ApiToken.objects.exists()


def test_token_revoke_deletes_own_token_and_refuses_anothers() -> None:
    # given
    user, other = UserFactory(), UserFactory()
    mine, theirs = api_token_create(user=user).token, api_token_create(user=other).token

    # when
    api_token_revoke(user=user, token_id=mine.pk)
    with pytest.raises(NotFoundError, match=ERROR_TOKEN_NOT_FOUND):
        api_token_revoke(user=user, token_id=theirs.pk)

    # then
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_token_touch_writes_at_most_once_a_minute() -> None:
    # given
    token = api_token_create(user=UserFactory()).token
    api_token_touch(token=token)
    first = ApiToken.objects.get().last_used_at

    # when
    api_token_touch(token=token)
    second = ApiToken.objects.get().last_used_at
    ApiToken.objects.update(last_used_at=timezone.now() - timedelta(minutes=2))
    token.refresh_from_db()
    api_token_touch(token=token)

    # then
    assert first is not None
    assert second == first
    assert ApiToken.objects.get().last_used_at > first  # type: ignore[operator]


def test_account_create_makes_an_account_without_a_password() -> None:
    # when
    user = account_create(username="nina", email="nina@example.org")

    # then
    user.refresh_from_db()
    assert (user.username, user.email, user.has_usable_password(), user.last_login) == (
        "nina", "nina@example.org", False, None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("username", "email", "field"),
    [("taken", "", "username"), ("no spaces", "", "username"), ("ok", "bad", "email")],
)
def test_account_create_refuses_bad_input(username: str, email: str, field: str) -> None:
    # given
    UserFactory(username="taken")

    # when
    with pytest.raises(ValidationError) as info:
        account_create(username=username, email=email)

    # then
    assert list(info.value.message_dict) == [field]
    if username == "taken":
        assert info.value.message_dict["username"] == [ERROR_USERNAME_TAKEN.format(username="taken")]
    assert User.objects.count() == 1


def test_set_password_link_is_for_new_accounts_only() -> None:
    # given
    new = account_create(username="nina")
    active = UserFactory(username="adam")

    # when
    link = set_password_link_create(user=new)
    with pytest.raises(ValidationError) as info:
        set_password_link_create(user=active)

    # then
    _uidb64, token = link.strip("/").split("/")[-2:]
    assert link.startswith("/accounts/set-password/")
    assert default_token_generator.check_token(new, token)
    assert info.value.messages == [ERROR_LINK_FOR_ACTIVE_ACCOUNT.format(username="adam")]


def test_set_password_link_is_refused_once_the_account_logged_in() -> None:
    # given
    user = account_create(username="nina")
    user.last_login = timezone.now()
    user.save()

    # when / then
    with pytest.raises(ValidationError):
        set_password_link_create(user=user)


def _attempt(username: str, ip: str, failures: int) -> AccessAttempt:
    return AccessAttempt.objects.create(
        username=username, ip_address=ip, user_agent="ua", failures_since_start=failures,
        attempt_time=timezone.now(), get_data="", post_data="", http_accept="", path_info="/",
    )  # fmt: skip


def test_lockout_lift_forgets_one_username_or_one_address() -> None:
    # given
    _attempt("ann", "10.0.0.1", 5)
    _attempt("bob", "10.0.0.2", 5)
    _attempt("cyd", "10.0.0.3", 5)

    # when
    by_name = lockout_lift(username="ann")
    by_address = lockout_lift(ip_address="10.0.0.2")
    nothing = lockout_lift()

    # then
    assert (by_name, by_address, nothing) == (1, 1, 0)
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["cyd"]
