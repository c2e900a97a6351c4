"""COPY sent from a thread of its own, so that PostgreSQL takes in one batch while Python formats the next.

An import writes each batch with a few COPYs (items, their imported answers, the answer summaries), and each
COPY returns only once the server has inserted every row and index entry. Written one after the other, the
server waits while Python formats a batch's text and Python waits while the server inserts it: on a 2-core
machine two fifths of both cores sat idle (bench/README.md). The writer hands each COPY to a `CopySender`
instead and goes on formatting; the sender's thread sends them in order, on the import's own connection and
inside its transaction.

Everything else the import runs on that connection waits for the copies handed over before it: the sender
puts itself in front of every statement Django executes (an execute wrapper) while it is open, and the
caller drains it before the transaction ends. A COPY that fails makes the next hand-over or drain raise its
error, mapped to Django's database errors like any statement's; the copies queued behind it are dropped.
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from django.db import connection

from core.queries import FK_TRIGGERS_OFF_SQL, FK_TRIGGERS_ON_SQL

# Copies handed over and not yet sent: about three batches' worth (a batch is up to three COPYs of a few MB).
COPIES_AHEAD = 8
# Python's switch interval while a sender is open. The sender's thread wakes each time the socket takes more of
# a COPY, and must then take Python's lock from the reader's and the writer's threads, which hold it for up to
# the interval (5 ms by default) while the server may run dry; with 0.5 ms, a million-row import into a full
# project ran 5% faster side by side (bench/README.md). The process's own value is put back when the last
# open sender closes.
SWITCH_INTERVAL_S = 0.0005


@dataclass(frozen=True)
class _Copy:
    statement: str
    payload: str | Callable[[Any], None]  # COPY's text, or a function given psycopg's Copy to write rows
    fk_triggers_off: bool


@dataclass(frozen=True)
class _Query:
    sql: str
    params: Sequence[Any]
    rows: Future[list[tuple[Any, ...]]]


class CopyDropped(Exception):
    """A read handed over after a failed COPY: it was never sent."""


class CopySender:
    """Sends COPYs on this thread's connection from a thread of its own, in the order they are handed over.

    Use it as a context manager inside the transaction (`with CopySender(...) as sender:`): on a clean exit
    it drains (every copy sent, or the first failure raised); on an exception it drops what is still queued
    and waits for the copy under way, so that the transaction can roll back."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[_Copy | _Query | None] = queue.Queue(maxsize=COPIES_AHEAD)
        self._error: BaseException | None = None
        self._replica = False  # whether the sender's last copy left foreign-key triggers off
        self._dropping = threading.Event()
        self._thread: threading.Thread | None = None
        self._raw: Any = None
        self._unwrap = contextlib.ExitStack()  # the execute wrapper, while the sender is open

    def __enter__(self) -> CopySender:
        connection.ensure_connection()
        self._raw = connection.connection
        _switch_interval_shorten()
        self._thread = threading.Thread(target=self._run, name="import-copy", daemon=True)
        self._thread.start()
        self._unwrap.enter_context(connection.execute_wrapper(self._drained_first))
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        self._unwrap.close()
        try:
            if kind is None:
                self.drain()
        finally:
            if kind is not None:
                self._dropping.set()
            self._jobs.put(None)
            assert self._thread is not None
            self._thread.join()
            _switch_interval_restore()

    def copy(self, statement: str, payload: str | Callable[[Any], None], *, fk_triggers_off: bool) -> None:
        """Hands over one COPY (`statement` ... FROM STDIN) of `payload`: COPY's text, or a function that writes
        rows to psycopg's Copy. `fk_triggers_off`: sent with session_replication_role = replica (the caller
        holds what the foreign-key checks would have made sure of, see PostgresBatchWriter)."""
        self._raise_failure()
        self._jobs.put(_Copy(statement, payload, fk_triggers_off))

    def query(self, sql: str, params: Sequence[Any]) -> Future[list[tuple[Any, ...]]]:
        """Hands over a read, sent after the copies before it: its rows, once there, through `rows_of`. For a read
        whose answer the caller needs later and which does not depend on the copies queued before it (a
        later batch's known items, the next block of ids): it waits in line instead of draining the line."""
        self._raise_failure()
        rows: Future[list[tuple[Any, ...]]] = Future()
        self._jobs.put(_Query(sql, list(params), rows))
        return rows

    def rows_of(self, rows: Future[list[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
        """A read's rows (see `query`), waiting for them; its failure, or the failed COPY's before it, as Django's
        database error."""
        try:
            return rows.result()
        except CopyDropped:
            self._raise_failure()
            raise
        except Exception as exc:
            with connection.wrap_database_errors:
                raise exc from None

    def drain(self) -> None:
        """Returns once every copy handed over is in, with foreign-key triggers back on; raises the first
        copy's failure, as Django's database error."""
        self._jobs.join()
        self._raise_failure()
        if self._replica:
            with self._raw.cursor() as cursor, connection.wrap_database_errors:
                cursor.execute(FK_TRIGGERS_ON_SQL)
            self._replica = False

    def _drained_first(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.drain()
        return execute(sql, params, many, context)

    def _raise_failure(self) -> None:
        if self._error is not None:
            with connection.wrap_database_errors:
                raise self._error

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                if self._error is None and not self._dropping.is_set():
                    self._send(job)
                elif isinstance(job, _Query):
                    job.rows.set_exception(CopyDropped())
            except BaseException as exc:
                self._error = exc
                if isinstance(job, _Query):
                    job.rows.set_exception(exc)
            finally:
                self._jobs.task_done()

    def _send(self, job: _Copy | _Query) -> None:
        with self._raw.cursor() as cursor:
            if isinstance(job, _Query):
                cursor.execute(job.sql, job.params)
                job.rows.set_result(cursor.fetchall())
                return
            if job.fk_triggers_off != self._replica:
                cursor.execute(FK_TRIGGERS_OFF_SQL if job.fk_triggers_off else FK_TRIGGERS_ON_SQL)
                self._replica = job.fk_triggers_off
            with cursor.copy(job.statement) as copy:
                if isinstance(job.payload, str):
                    copy.write(job.payload)
                else:
                    job.payload(copy)


_switching = threading.Lock()
_senders_open = 0
_switch_interval_before = 0.0


def _switch_interval_shorten() -> None:
    global _senders_open, _switch_interval_before
    with _switching:
        if _senders_open == 0:
            _switch_interval_before = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch_interval_before, SWITCH_INTERVAL_S))
        _senders_open += 1


def _switch_interval_restore() -> None:
    global _senders_open
    with _switching:
        _senders_open -= 1
        if _senders_open == 0:
            sys.setswitchinterval(_switch_interval_before)
