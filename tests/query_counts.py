"""Query-count guards for the API: a list's queries must not grow with its rows (an N+1 fails the test)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

GROWN = 20  # rows added between the two measurements


def queries_of(client: APIClient, url: str) -> tuple[int, Any]:
    """How many queries one GET of `url` runs, and its response (which must be a 200)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, getattr(response, "data", None))
    return len(captured.captured_queries), response


def assert_queries_do_not_grow(
    client: APIClient,
    url: str,
    add_rows: Callable[[int], object],
    assert_max_num_queries: Any,
    *,
    rows: Callable[[Any], int] | None = None,
) -> int:
    """GET `url` with the rows the test made, add GROWN more (add_rows(GROWN)), and GET it again within the
    same number of queries (django_assert_max_num_queries). `rows` counts a response's rows, to check that
    the second GET really returned more of them. Returns the count measured first."""
    client.get(url)  # warm: what a first request caches in memory (content types) is not the list's
    # Both measured requests start from an empty cache: reports cached under the project's row counts
    # (agreement, annotator quality) would otherwise be a hit the first time and a miss the second.
    cache.clear()
    measured, first = queries_of(client, url)
    add_rows(GROWN)
    cache.clear()
    with assert_max_num_queries(measured):
        second = client.get(url)
    assert second.status_code == 200
    if rows is not None:
        assert rows(second) == rows(first) + GROWN
    return measured


def results(response: Any) -> int:
    """The rows of a paginated list response."""
    return len(response.data["results"])
