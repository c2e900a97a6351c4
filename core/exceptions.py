"""Errors that services raise. Views and the DRF exception handler map them to responses."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A request that is well-formed but cannot be carried out (maps to HTTP 400 unless a status is given)."""

    status_code = 400

    def __init__(self, message: str, *, code: str = "error", extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra or {}


class PermissionDeniedError(ApplicationError):
    """The user is a member but their role does not allow the action (HTTP 403)."""

    status_code = 403

    def __init__(self, message: str = "You do not have permission to do this.") -> None:
        super().__init__(message, code="permission_denied")


class NotFoundError(ApplicationError):
    """The object does not exist or is not visible to the user (HTTP 404)."""

    status_code = 404

    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(message, code="not_found")
