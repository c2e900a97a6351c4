"""Query-count guards for the API: a list's queries must not grow with its rows (an N+1 fails the test)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from projects.models import Project

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


def listed(response: Any) -> int:
    """The rows of an unpaginated list response."""
    return len(response.data)


@dataclass(frozen=True)
class Case:
    """One endpoint of a parametrized query-count test (its id names the endpoint).

    The endpoint's rows hang on a subject: the project, unless `given(project, owner)` makes the first rows
    itself and returns another (an item, an LF, the owner's membership). By default the first rows are
    `add_rows(project, first)`. `url(subject)` is the endpoint, `add_rows(subject, n)` adds n rows, and
    `rows` (as in assert_queries_do_not_grow) counts a response's rows."""

    id: str
    url: Callable[[Any], str]
    add_rows: Callable[[Any, int], object]
    rows: Callable[[Any], int] | None = None
    given: Callable[[Project, User], Any] | None = None
    first: int = 3

    def first_rows(self, project: Project, owner: User) -> Any:
        """Makes the endpoint's first rows; returns their subject."""
        if self.given is not None:
            return self.given(project, owner)
        self.add_rows(project, self.first)
        return project


def cases(*table: Case) -> pytest.MarkDecorator:
    """Parametrizes a test's `case` over `table`, each named by its id."""
    return pytest.mark.parametrize("case", table, ids=[case.id for case in table])


def endpoint_test(*table: Case) -> Callable[..., None]:
    """The query-count test of a table of endpoints, parametrized over its cases (each named by its id); a
    test module collects it under a test_ name (test_the_endpoint_does_not_grow_with_its_rows = endpoint_test(...))."""

    @cases(*table)
    def test(
        case: Case, project: Project, owner: User, owner_client: APIClient, django_assert_max_num_queries: Any
    ) -> None:
        # given the endpoint's first rows (three unless the case says otherwise), and what they hang on
        subject = case.first_rows(project, owner)

        # when GROWN more are added, then the endpoint runs as many queries as with the first rows
        assert_queries_do_not_grow(
            owner_client, case.url(subject), lambda n: case.add_rows(subject, n), django_assert_max_num_queries,
            rows=case.rows,
        )  # fmt: skip

    return test
