"""Every write of the accounts app: API tokens, accounts created by owners, set-password links, lockouts."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import ApiToken
from core.exceptions import NotFoundError

DEFAULT_TOKEN_NAME = "API token"
# 20 random bytes as 40 hex digits: the length of the tokens clients received before (DRF's authtoken).
TOKEN_KEY_BYTES = 20
TOKEN_PREFIX_LENGTH = 8
# last_used_at is written at most this often per token, so that API traffic is not a stream of writes.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)

ERROR_TOKEN_NAME_TOO_LONG = "A token name has at most {limit} characters."
ERROR_TOKEN_NOT_FOUND = "You have no token with this id."
ERROR_USERNAME_TAKEN = "There is already a user called '{username}'; add them as an existing user instead."
ERROR_LINK_FOR_ACTIVE_ACCOUNT = (
    "'{username}' has already set a password or logged in: a set-password link is only given for new "
    "accounts. They can change their password on their account page."
)


@dataclass(frozen=True)
class IssuedApiToken:
    """A token just made, with its key: the only moment the key is known to the server."""

    token: ApiToken
    key: str


def api_token_create(*, user: User, name: str = "") -> IssuedApiToken:
    """Issues a token valid for API_TOKEN_TTL; the user's expired tokens are deleted on the way."""
    name = name.strip() or DEFAULT_TOKEN_NAME
    limit = ApiToken._meta.get_field("name").max_length or 0
    if len(name) > limit:
        raise ValidationError({"name": ERROR_TOKEN_NAME_TOO_LONG.format(limit=limit)}, code="name")
    key = secrets.token_hex(TOKEN_KEY_BYTES)
    now = timezone.now()
    with transaction.atomic():
        ApiToken.objects.filter(user=user, expires_at__lte=now).delete()
        token = ApiToken.objects.create(
            user=user, name=name, prefix=key[:TOKEN_PREFIX_LENGTH], digest=ApiToken.digest_of(key),
            expires_at=now + settings.API_TOKEN_TTL,
        )  # fmt: skip
    return IssuedApiToken(token=token, key=key)


def api_token_revoke(*, user: User, token_id: int) -> None:
    deleted, _ = ApiToken.objects.filter(user=user, pk=token_id).delete()
    if not deleted:
        raise NotFoundError(ERROR_TOKEN_NOT_FOUND)


def api_token_touch(*, token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or token.last_used_at <= now - TOKEN_TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def account_create(*, username: str, email: str = "") -> User:
    """A new account without a password: its owner sets one through a set-password link."""
    user = User(username=username, email=email)
    user.set_unusable_password()
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": ERROR_USERNAME_TAKEN.format(username=username)}, code="taken")
    user.full_clean(exclude=["password"])
    user.save()
    return user


def set_password_link_create(*, user: User) -> str:
    """The path of a one-time link that lets a new account set its password (PASSWORD_RESET_TIMEOUT).

    Django's token generator signs the password hash and the last login: the link dies once used. It is
    refused for accounts that have a password or have logged in, so that an owner can never take over one.
    """
    if user.has_usable_password() or user.last_login is not None:
        raise ValidationError(
            ERROR_LINK_FOR_ACTIVE_ACCOUNT.format(username=user.get_username()), code="active_account"
        )
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("accounts:set-password", kwargs={"uidb64": uidb64, "token": token})


def lockout_lift(*, username: str = "", ip_address: str = "") -> int:
    """Forgets the failed logins of a username or of a client address; returns how many records went."""
    if not username and not ip_address:
        return 0
    return int(axes_reset(ip=ip_address or None, username=username or None))
