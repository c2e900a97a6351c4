"""The migrations that split labeling into apps change Django's state only: as SQL, they are empty both ways.

Their one database write is the content types' app label, a RunPython that sqlmigrate shows as a comment.
tests/integration/test_migrations_keep_data.py migrates a filled database through them on PostgreSQL.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

# sqlmigrate opens a schema editor, which SQLite refuses inside the transaction of a plain django_db test.
pytestmark = pytest.mark.django_db(transaction=True)

SPLIT_MIGRATIONS = [
    ("projects", "0001_models_from_labeling"),
    ("oversight", "0001_review_request_from_labeling"),
    ("features", "0001_feature_block_from_active_learning"),
    ("active_learning", "0002_feature_block_to_features"),
    ("datasets", "0003_project_from_projects"),
    ("weak_supervision", "0004_models_from_projects"),
    ("labeling", "0008_models_to_projects_and_oversight"),
]
# sqlmigrate wraps an atomic migration in these on a database that can roll back DDL; they do nothing alone.
TRANSACTION_STATEMENTS = {"BEGIN;", "COMMIT;"}


def sql_statements(app: str, migration: str, *, backwards: bool = False) -> list[str]:
    """The lines of `sqlmigrate` that are SQL: neither blank, nor a comment, nor the transaction around it."""
    output = StringIO()
    call_command("sqlmigrate", app, migration, backwards=backwards, stdout=output)
    lines = (line.strip() for line in output.getvalue().splitlines())
    return [
        line for line in lines if line and not line.startswith("--") and line not in TRANSACTION_STATEMENTS
    ]


@pytest.mark.parametrize("backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize(
    ("app", "migration"), SPLIT_MIGRATIONS, ids=[f"{a}.{m}" for a, m in SPLIT_MIGRATIONS]
)
def test_a_migration_of_the_split_emits_no_sql(app: str, migration: str, backwards: bool) -> None:
    # given a migration that moves models between apps
    # when it is written out as SQL
    statements = sql_statements(app, migration, backwards=backwards)

    # then there is none: no table, column, index or constraint is created, changed or dropped
    assert statements == []


def test_sql_statements_finds_the_sql_of_a_migration_that_changes_the_schema() -> None:
    # given a migration from before the split that adds a column to the import jobs' table
    # when it is written out as SQL
    statements = sql_statements("labeling", "0007_import_job_attempts")

    # then its statements are found, so an empty list above means that there are none
    assert any('"labeling_importjob" ADD COLUMN "heartbeat_at"' in statement for statement in statements)
