"""Starts throwaway PostgreSQL and Redis servers for `pytest --real-services` (filled in below)."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--real-services",
        action="store_true",
        default=False,
        help="Start throwaway PostgreSQL, Redis and a Celery worker for the integration tests.",
    )
