"""Maps Django ValidationError and ApplicationError from services to DRF responses (STYLE.md §4).

A number the database cannot hold (an id beyond 2**63 - 1 in a request body: SQLite raises OverflowError
binding it, PostgreSQL a DataError) is the request's fault, so it is a 400 too, never a 500. FilterSets and
serializers bound what they can; this is the net below them.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from core.exceptions import ApplicationError

OUT_OF_RANGE = "A number in the request is too large or too small for the database."
DOES_NOT_FIT = "A value in the request does not fit the database: {reason}."


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, OverflowError):
        set_rollback()
        return Response({"detail": OUT_OF_RANGE, "code": "out_of_range"}, status=400)
    if isinstance(exc, DataError):
        set_rollback()
        reason = (str(exc).strip().splitlines() or ["invalid value"])[0].rstrip(".")
        return Response({"detail": DOES_NOT_FIT.format(reason=reason), "code": "out_of_range"}, status=400)
    if isinstance(exc, ApplicationError):
        return Response({"detail": exc.message, "code": exc.code, **exc.extra}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        if not hasattr(exc, "error_dict"):
            # A service's rule about the request as a whole: the same shape as ApplicationError.
            return Response({"detail": " ".join(exc.messages), "code": exc.code or "invalid"}, status=400)
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    return drf_exception_handler(exc, context)
