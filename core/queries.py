"""Query helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections
from django.db.backends.utils import CursorWrapper
from django.db.models import Model, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

M = TypeVar("M", bound=Model)


def filter_ids(queryset: QuerySet[M], field: str, ids: Iterable[int]) -> QuerySet[M]:
    """The rows whose `field` is one of these ids. On PostgreSQL the ids go as one array parameter: an IN list
    of 10,000 placeholders costs the driver about a fifth of a second to build, per query."""
    wanted = list(ids)
    if connection.vendor == "postgresql":
        return queryset.filter(**{f"{field}__in": RawSQL("SELECT unnest(%s::bigint[])", [wanted])})
    return queryset.filter(**{f"{field}__in": wanted})


FK_TRIGGERS_MAY_BE_OFF = (
    "SELECT current_setting('is_superuser') = 'on' OR (current_setting('server_version_num')::int >= 150000 "
    "AND has_parameter_privilege('session_replication_role', 'SET'))"
)


def fk_triggers_may_be_off() -> bool:
    """Whether this PostgreSQL role may write without queuing foreign-key checks (`session_replication_role`:
    a superuser, or a role granted SET on it). False elsewhere."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(FK_TRIGGERS_MAY_BE_OFF)
        row = cursor.fetchone()
    return bool(row and row[0])


# What fk_triggers_off runs on its cursor (and imports.services.copy_sender on the import's connection).
FK_TRIGGERS_OFF_SQL = "SET LOCAL session_replication_role = replica"
FK_TRIGGERS_ON_SQL = "SET LOCAL session_replication_role = origin"


@contextmanager
def fk_triggers_off(*, off: bool) -> Iterator[CursorWrapper]:
    """A cursor whose writes queue no foreign-key check, where `off` (see fk_triggers_may_be_off), inside the
    caller's transaction. PostgreSQL would otherwise queue one check per row and key and run them at commit,
    each locking the row it points at (FOR KEY SHARE): the caller must hold what those checks would have
    made sure of (the rows pointed at exist and stay until the commit)."""
    with connection.cursor() as cursor:
        if off:
            cursor.execute(FK_TRIGGERS_OFF_SQL)
        try:
            yield cursor
        finally:
            if off:
                cursor.execute(FK_TRIGGERS_ON_SQL)


def statistics_refresh(models: Iterable[type[Model]]) -> None:
    """Brings these tables' planner statistics and visibility map up to date after a bulk write (PostgreSQL's
    VACUUM (ANALYZE); ANALYZE alone inside a transaction, where VACUUM may not run).

    A table whose statistics predate a large import gets bad plans (measured: a run's chunk of 20,000 items
    read through a bitmap over every item of the project, 79 ms against 25 ms by the primary key), and pages
    that VACUUM has not yet marked all-visible make index-only scans visit the table (counting a project's
    million items: 0.27 s against 0.10 s). Autovacuum, where it is on at all, gets to them minutes later."""
    if connection.vendor != "postgresql":
        return
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")


def statement_cursor() -> CursorWrapper:
    """A cursor for the hot path's written-out statements (the token read, the pick and the lease, the submit).

    On PostgreSQL it binds its parameters on the server, so that psycopg prepares a statement once it has run
    PREPARE_AFTER times on a connection: PostgreSQL then parses and plans it once per connection instead of
    per call, which was half of its CPU per answered item (measured in-process over next+submit: 4.7-5.0 ms
    against 2.1-2.6 ms). Django's own cursors bind on the client and never prepare, so the ORM's statements
    are as they were. Like `connection.cursor()`, it goes through Django's wrapper (its execute wrappers
    apply). Where Django logs statements (DEBUG, or a test counting queries) it is `connection.cursor()`, so
    that the log shows each statement with its values, as Django's client-side binding writes it; the count
    is the same. After a table's columns change under a live connection, PostgreSQL refuses a prepared
    `SELECT *` ("cached plan must not change result type"): that call fails, the connection forgets its
    prepared statements, and the next call prepares afresh (psycopg itself only forgets them at a rollback,
    and a read outside a transaction has none).

    With `OVERSIGHT_DB_PREPARED_STATEMENTS=0` (a pooler that cannot keep prepared statements), and on SQLite,
    it is `connection.cursor()`."""
    db = connections[DEFAULT_DB_ALIAS]  # this thread's connection, looked up once (the proxy: per use)
    if db.vendor != "postgresql" or not settings.OVERSIGHT_DB_PREPARED_STATEMENTS or db.queries_logged:
        return db.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        raw = cast(Any, ServerBindingCursor)(db.connection)
    db.validate_thread_sharing()
    return _StatementCursor(raw, db)


# What PostgreSQL answers to a prepared statement it can no longer run as prepared: a `*` whose table changed
# ("cached plan must not change result type", 0A000), or one that no longer exists (26000: a DISCARD ALL).
_STALE_PREPARED = {"0A000", "26000"}


# Runs of a statement text on a connection before psycopg prepares it (its own default).
PREPARE_AFTER = 5


class _StatementCursor(CursorWrapper):
    def execute(self, sql: Any, params: Any = None) -> Any:
        # The threshold is the connection's, and with one set psycopg also counts every statement Django's
        # cursors send (keeping the text of the latest hundred: a bulk write's megabytes among them). So it is
        # set only while this cursor executes: Django's default, None, stays for everything else.
        raw = self.db.connection
        before = raw.prepare_threshold
        raw.prepare_threshold = PREPARE_AFTER if before is None else before
        try:
            return super().execute(sql, params)
        except DatabaseError as error:
            if getattr(error.__cause__, "sqlstate", None) in _STALE_PREPARED:
                # psycopg deallocates them all before the connection's next statement
                raw._prepared.clear()
            raise
        finally:
            raw.prepare_threshold = before


def datetime_from_db(value: object) -> datetime | None:
    """A timestamp column read by a raw query as the driver gave it (a datetime on PostgreSQL, text on SQLite,
    which stores UTC without an offset), as an aware datetime; None stays None."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)


# How a statement's columns become a model's fields: the model's field names and their positions (in the
# model's field order, as Model.from_db takes them), and the converters of each position.
_Converters = list[tuple[int, list[Any], Any]]
_Plan = tuple[list[str], list[int], _Converters]


def _plan(model: type[Model], columns: tuple[str, ...], prefix: str) -> _Plan:
    chosen = [field for field in model._meta.concrete_fields if f"{prefix}{field.column}" in columns]
    names = [field.attname for field in chosen]
    positions = [columns.index(f"{prefix}{field.column}") for field in chosen]
    converters: _Converters = []
    for field, position in zip(chosen, positions, strict=True):
        col = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if found:
            converters.append((position, found, col))
    return names, positions, converters


# A statement's whole mapping, made once per process: the main model's plan, every converter to run, the other columns
# (set as attributes), and per related model its name, plan and the position of its primary key.
_Related = tuple[str, type[Model], list[str], list[int], int]
_StatementPlan = tuple[list[str], list[int], _Converters, list[tuple[str, int]], list[_Related]]
_STATEMENT_PLANS: dict[
    tuple[type[Model], str, tuple[str, ...], tuple[tuple[str, type[Model]], ...]], _StatementPlan
] = {}


# The column names of each statement text models_from_sql has run (reading them from the cursor builds a column
# object per column and costs more than mapping the rows); at most this many statements, oldest dropped first.
_STATEMENT_COLUMNS: dict[str, tuple[str, ...]] = {}
STATEMENT_COLUMNS_KEPT = 256


def _statement_plan(
    model: type[Model], columns: tuple[str, ...], related: tuple[tuple[str, type[Model]], ...]
) -> _StatementPlan:
    key = (model, connection.vendor, columns, related)
    plan = _STATEMENT_PLANS.get(key)
    if plan is not None:
        return plan
    names, positions, converters = _plan(model, columns, "")
    if model._meta.pk is None or model._meta.pk.attname not in names:
        raise ValueError("The statement must select the primary key.")
    others: list[_Related] = []
    converters = list(converters)
    taken = set(positions)
    for name, other in related:
        other_names, other_positions, other_converters = _plan(other, columns, f"{name}__")
        pk = other._meta.pk
        if pk is None or pk.attname not in other_names:
            raise ValueError(
                f"The statement must select {name}'s primary key ({name}__{pk.column if pk else 'id'})."
            )
        pk_position = other_positions[other_names.index(pk.attname)]
        others.append((name, other, other_names, other_positions, pk_position))
        converters += other_converters
        taken.update(other_positions)
    extra = [(column, position) for position, column in enumerate(columns) if position not in taken]
    plan = (names, positions, converters, extra, others)
    _STATEMENT_PLANS[key] = plan
    return plan


def models_from_sql(
    model: type[M],
    sql: str,
    params: Sequence[Any] | Mapping[str, Any],
    *,
    related: Mapping[str, type[Model]] | None = None,
) -> list[M]:
    """The rows of a written-out statement as instances of `model`: what `model.objects.raw(sql, params)`
    returns (its columns that are the model's fields, converted as the ORM converts them; the others set as
    attributes), without the half millisecond raw() spends per call mapping columns to fields (mapped once
    per process here). The hot path's reads use it; the statement must select the primary key.

    `related` ({"name": Model}): columns named `name__<column>` build an instance of that model too, set on
    each row's instance as the attribute `name` (None where its primary key is NULL, as a LEFT JOIN leaves it).
    """
    with statement_cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        columns = _STATEMENT_COLUMNS.get(sql)
        # A statement's columns follow from its text, read once per process; again where a row's width says
        # a table's columns changed under a `*` since (a migration while the process runs).
        if columns is None or (rows and len(rows[0]) != len(columns)):
            columns = _STATEMENT_COLUMNS[sql] = tuple(column[0] for column in cursor.description or ())
            if len(_STATEMENT_COLUMNS) > STATEMENT_COLUMNS_KEPT:
                del _STATEMENT_COLUMNS[next(iter(_STATEMENT_COLUMNS))]
    names, positions, converters, extra, others = _statement_plan(
        model, columns, tuple((related or {}).items())
    )
    db, alias = connections[DEFAULT_DB_ALIAS], DEFAULT_DB_ALIAS
    built = []
    for raw in rows:
        values = list(raw)
        for position, functions, col in converters:
            value = values[position]
            for function in functions:
                value = function(value, col, db)
            values[position] = value
        instance = model.from_db(alias, names, [values[position] for position in positions])
        for column, position in extra:
            setattr(instance, column, values[position])
        for name, other, other_names, other_positions, pk_position in others:
            joined = None
            if values[pk_position] is not None:
                joined = other.from_db(alias, other_names, [values[p] for p in other_positions])
            setattr(instance, name, joined)
        built.append(instance)
    return built
