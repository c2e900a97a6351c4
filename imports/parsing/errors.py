from __future__ import annotations

from core.exceptions import ApplicationError


class ImportFileError(ApplicationError):
    """A file that cannot be imported, with the line (or record) where the problem is."""

    def __init__(self, message: str, *, line: int | None = None, where: str = "Line") -> None:
        text = f"{where} {line}: {message}" if line is not None else message
        super().__init__(text, code="invalid_file", extra={"line": line})
        self.line = line


class ImportTooLargeError(ImportFileError):
    """An upload larger than the configured maximum (HTTP 413 Content Too Large)."""

    status_code = 413

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = "too_large"
