"""core.db_backends.postgresql: the per-request health check asks the server only where it has sent
something, and a session the server ended is still replaced before the request's first query."""

from __future__ import annotations

import time
from unittest import mock

import psycopg
import pytest
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connections

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _a_new_request_queries() -> int:
    """What a request does: Django's request-start hook, then a first query; returns the session's pid."""
    close_old_connections()
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def test_a_quiet_connection_is_reused_without_a_round_trip() -> None:
    # given the project's backend with health checks on, and a connection that has served a request
    wrapper = type(connections[DEFAULT_DB_ALIAS])
    assert wrapper.__module__ == "core.db_backends.postgresql.base"
    assert connections[DEFAULT_DB_ALIAS].health_check_enabled
    pid = _a_new_request_queries()

    # when the next request starts and queries
    with mock.patch.object(wrapper, "is_usable", autospec=True) as is_usable:
        again = _a_new_request_queries()

    # then it ran on the same session, and Django's SELECT 1 was never sent
    assert again == pid
    is_usable.assert_not_called()


def test_a_session_the_server_ended_is_replaced_before_the_first_query() -> None:
    # given a connection that has served a request, whose session the server then ends (as at a restart)
    pid = _a_new_request_queries()
    wrapper = type(connections[DEFAULT_DB_ALIAS])
    given = connections[DEFAULT_DB_ALIAS].settings_dict
    with psycopg.connect(
        dbname=given["NAME"], user=given["USER"], host=given["HOST"], port=given["PORT"] or 5432,
        password=given["PASSWORD"] or None, autocommit=True,
    ) as other:  # fmt: skip
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
        deadline = time.monotonic() + 10
        while other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            assert time.monotonic() < deadline, "the session did not end"
            time.sleep(0.05)

    # when the next request starts and queries
    with mock.patch.object(wrapper, "is_usable", autospec=True, side_effect=wrapper.is_usable) as used:
        again = _a_new_request_queries()

    # then the check saw the server's word, asked Django's check, and the query ran on a new session
    used.assert_called_once()
    assert again != pid
