"""DRF authentication by expiring API tokens (`Authorization: Token <key>`), looked up by digest."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from accounts.models import ApiToken
from accounts.selectors import api_token_get_for_key
from accounts.services import api_token_touch

ERROR_INVALID_TOKEN = "Invalid token."
ERROR_EXPIRED_TOKEN = "Token expired; get a new one with POST /api/auth/token/ or on your account page."
ERROR_INACTIVE_USER = "User inactive or deleted."


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's header parsing and challenge; the key is checked against ApiToken's digests and expiry."""

    keyword = "Token"
    model = ApiToken

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        return self.token_check(api_token_get_for_key(key=key))

    def token_check(self, token: ApiToken | None) -> tuple[Any, ApiToken]:
        """The user and token a found token stands for, or the 401 its absence, expiry or user calls for."""
        if token is None:
            raise exceptions.AuthenticationFailed(ERROR_INVALID_TOKEN)
        if token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed(ERROR_EXPIRED_TOKEN)
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(ERROR_INACTIVE_USER)
        api_token_touch(token=token)
        return token.user, token
