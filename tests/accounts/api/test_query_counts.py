"""Query-count guards: the API token list runs as many queries for 23 tokens as for 3."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.services import api_token_create
from tests.projects.factories import UserFactory
from tests.query_counts import assert_queries_do_not_grow

pytestmark = pytest.mark.django_db


def test_the_token_list_does_not_grow_with_tokens(
    api_client_for: Callable[..., APIClient], django_assert_max_num_queries: Any
) -> None:
    # given a user with three tokens (and another user's)
    user = UserFactory()
    for index in range(3):
        api_token_create(user=user, name=f"t{index}")
    api_token_create(user=UserFactory(), name="other")

    def more(n: int) -> None:
        for index in range(n):
            api_token_create(user=user, name=f"more{index}")

    # then
    def rows(response: Any) -> int:
        data = response.data
        return len(data["results"] if isinstance(data, dict) else data)

    assert_queries_do_not_grow(
        api_client_for(user), "/api/auth/tokens/", more, django_assert_max_num_queries, rows=rows
    )
