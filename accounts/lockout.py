"""The answer to a locked-out login (django-axes' AXES_LOCKOUT_CALLABLE): 429 with a message that says why."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

LOCKOUT_MESSAGE = (
    "Too many failed logins for this username or from this address: logins are refused for {minutes} "
    "minutes. An owner of one of your projects or an administrator can lift the lockout sooner."
)
PERMANENT_LOCKOUT_MESSAGE = (
    "Too many failed logins for this username or from this address: logins are refused until an owner of "
    "one of your projects or an administrator lifts the lockout."
)


def lockout_message() -> str:
    cool_off = settings.AXES_COOLOFF_TIME
    if not cool_off:
        return PERMANENT_LOCKOUT_MESSAGE
    return LOCKOUT_MESSAGE.format(minutes=int(cool_off.total_seconds() // 60))


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    message = lockout_message()
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message, "code": "locked_out"}, status=429)
    else:
        response = render(request, "accounts/lockout.html", {"message": message}, status=429)
    if settings.AXES_COOLOFF_TIME:
        response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response
