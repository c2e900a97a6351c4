"""Django's PostgreSQL backend, with the per-request health check (CONN_HEALTH_CHECKS) done without a round
trip where the server has said nothing.

Django checks a persistent connection before the first query of each request by running `SELECT 1` on it:
one more round trip to the server per request, two of the fifteen a next+submit pair made. A server that
ends a session tells the client first: at a shutdown or restart, `pg_terminate_backend`,
`idle_session_timeout` or a crash of another backend, PostgreSQL sends an error message (FATAL, SQLSTATE
57P01 and kin) and closes the socket, and an idle connection otherwise receives nothing. So where the
connection is idle at our end and its socket has nothing to read (one `poll` with no timeout, a few
microseconds), the check passes without asking the server. Where something arrived, Django's own check runs
as before and replaces the connection if it fails.

What this does not see, Django's `SELECT 1` would not have saved either: a peer that vanished without a word
(a network cut) makes the check's query wait for TCP's timeout as it would make the request's first query.
"""

from __future__ import annotations

import select
from typing import Any

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus

__all__ = ["DatabaseWrapper"]


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        django: Any = self  # Django's health-check flags, which its stubs do not declare
        if (
            django.health_check_enabled
            and not django.health_check_done
            and not self.pool
            and self._server_silent()
        ):
            django.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _server_silent(self) -> bool:
        """Whether the connection is open and idle at our end and the server has sent nothing on it since its
        last answer (nothing to read on the socket)."""
        connection = self.connection
        if connection is None or connection.closed:
            return False
        if connection.info.transaction_status != TransactionStatus.IDLE:
            return False
        try:
            poller = select.poll()
            poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
            return not poller.poll(0)
        except (OSError, ValueError):  # no socket to ask: let Django's check decide
            return False
