"""On PostgreSQL the hot path's written-out statements go through core.queries.statement_cursor: psycopg
prepares each once it has run a few times on a connection, Django still counts them, and a table whose
columns change under a live connection costs one failed call."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.services import api_token_create
from core.queries import models_from_sql, statement_cursor
from projects.choices import Role
from projects.models import Item, Project
from tests.projects.factories import ItemFactory, MembershipFactory, ProjectFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
        return [row[0] for row in cursor.fetchall()]


def _label_ten(client: APIClient, slug: str) -> None:
    for _ in range(10):
        shown = client.get(f"/api/projects/{slug}/queue/next/")
        assert shown.status_code == 200, shown.content
        body = {"item_id": shown.json()["item"]["id"], "labels": ["spam"], "client_uuid": str(uuid.uuid4())}
        stored = client.post(f"/api/projects/{slug}/annotations/", body, format="json")
        assert stored.status_code == 201, stored.content


def test_the_hot_path_statements_are_prepared_and_still_counted() -> None:
    # given an analyst with a token in a project of 20 items
    assert connection.vendor == "postgresql"
    project = ProjectFactory(labels=["ham", "spam"])
    ItemFactory.create_batch(20, project=project)
    membership = MembershipFactory(project=project, role=Role.ANALYST)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=membership.user).key}")

    # when she labels ten items, then asks for one more
    _label_ten(client, project.slug)
    with CaptureQueriesContext(connection) as counted:
        client.get(f"/api/projects/{project.slug}/queue/next/")

    # then the token read, the pick, the lease and the submit are prepared on this connection (parameters as
    # $n: bound on the server), and Django counted the next's statements as ever
    prepared = _prepared()
    for marker in ("AS token_id", "FOR NO KEY UPDATE SKIP LOCKED", "WITH lease AS", "WITH ann AS"):
        assert any(marker in statement and "$1" in statement for statement in prepared), marker
    statements = [query["sql"] for query in counted.captured_queries]
    assert len(statements) == 5
    assert any("SKIP LOCKED" in statement for statement in statements)
    # and only while it ran: the connection keeps Django's default, so its other statements go uncounted
    assert connection.connection.prepare_threshold is None


def test_without_prepared_statements_nothing_is_prepared(settings: Any) -> None:
    # given prepared statements turned off (a pooler that cannot keep them)
    settings.OVERSIGHT_DB_PREPARED_STATEMENTS = False
    project = ProjectFactory(labels=["ham", "spam"])
    ItemFactory.create_batch(20, project=project)
    membership = MembershipFactory(project=project, role=Role.ANALYST)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=membership.user).key}")
    connection.close()  # a new session: nothing prepared yet

    # when she labels ten items
    _label_ten(client, project.slug)

    # then the statements went as text, bound by the driver, and nothing was prepared
    assert _prepared() == []
    with statement_cursor() as cursor:
        assert type(cursor.cursor).__name__ == "Cursor"  # Django's client-side binding cursor


def _items(project_id: int) -> list[Any]:
    sql = f"SELECT i.* FROM {Item._meta.db_table} i WHERE i.project_id = %s ORDER BY i.id"
    return models_from_sql(Item, sql, [project_id])


def _read_after(project_id: int, ddl: str, admin: psycopg.Connection[Any]) -> tuple[list[Any], int]:
    """Reads until the read is prepared, changes the table from another session, then reads until a read
    succeeds: what it read, and how many reads failed first."""
    for _ in range(8):
        _items(project_id)
    assert any("i.project_id = $1" in statement for statement in _prepared())
    admin.execute(ddl)
    failures = 0
    for _ in range(3):
        try:
            return _items(project_id), failures
        except DatabaseError:
            failures += 1
    raise AssertionError("three reads in a row failed after the table changed")


def test_a_column_changed_under_a_live_connection_costs_one_failed_read() -> None:
    # given a read of a table's `*` columns
    project: Project = ProjectFactory()
    made = ItemFactory.create_batch(3, project=project)
    assert [item.text for item in _items(project.pk)] == [item.text for item in made]
    dsn = connection.get_connection_params()
    admin = psycopg.connect(
        dbname=dsn["dbname"],
        user=dsn.get("user"),
        host=dsn.get("host"),
        port=dsn.get("port"),
        autocommit=True,
    )
    table = Item._meta.db_table
    try:
        # when, once the read is prepared on this connection, another session adds a column to the table, and
        # later drops it
        added, failed_add = _read_after(
            project.pk, f"ALTER TABLE {table} ADD COLUMN zz_extra integer DEFAULT 7", admin
        )
        dropped, failed_drop = _read_after(project.pk, f"ALTER TABLE {table} DROP COLUMN zz_extra", admin)
    finally:
        admin.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS zz_extra")
        admin.close()

    # then one read failed each time (PostgreSQL refuses the prepared `*` once), and the next mapped every
    # column to its field again
    assert (failed_add, failed_drop) == (1, 1)
    assert [(item.pk, item.text, item.zz_extra) for item in added] == [
        (item.pk, item.text, 7) for item in made
    ]
    assert [(item.pk, item.text) for item in dropped] == [(item.pk, item.text) for item in made]
    assert not hasattr(dropped[0], "zz_extra")
