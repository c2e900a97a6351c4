"""Splitting labeling into apps moves no data: `migrate` on a database made before the split keeps every row.

The test takes the session's PostgreSQL back to the migration state of the last commit before the split
(754b95f), fills every table of the project's apps through that state's historical models, runs `migrate`
as an operator would, and compares: the same tables with the same columns and constraints, the same rows,
and the content types of the moved models under their new app label with their old ids (so permissions
and admin history follow them).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.apps.registry import Apps
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from features.models import FeatureBlock
from labeling.models import Annotation
from oversight.models import ReviewRequest
from projects.models import Item, Project

pytestmark = pytest.mark.integration

# The leaf migrations of the project's apps at 754b95f, the last commit before the split.
OLD_LEAVES = [
    ("accounts", "0001_initial"),
    ("labeling", "0007_import_job_attempts"),
    ("weak_supervision", "0003_chunk_analysis"),
    ("active_learning", "0001_initial"),
    ("datasets", "0002_schedule_filters"),
]
# The leaf migrations at ac5667a, the state the split ended in: later migrations change schemas on purpose
# (new tables and columns), so the split is checked up to here.
SPLIT_LEAVES = [
    ("accounts", "0001_initial"),
    ("labeling", "0008_models_to_projects_and_oversight"),
    ("weak_supervision", "0004_models_from_projects"),
    ("active_learning", "0002_feature_block_to_features"),
    ("datasets", "0003_project_from_projects"),
    ("projects", "0001_models_from_labeling"),
    ("oversight", "0001_review_request_from_labeling"),
    ("features", "0001_feature_block_from_active_learning"),
]
NEW_APPS = ["projects", "oversight", "features", "imports", "demo"]
PROJECT_APPS = [app for app, _ in OLD_LEAVES] + NEW_APPS
TABLE_PREFIXES = tuple(f"{app}_" for app in PROJECT_APPS)
# Django's tables that point at content types: their rows must survive as they are too.
CONTENT_TYPE_TABLES = ["auth_permission", "django_admin_log"]
# (old app label, model) -> new app label.
MOVED = {
    ("labeling", "project"): "projects",
    ("labeling", "label"): "projects",
    ("labeling", "membership"): "projects",
    ("labeling", "item"): "projects",
    ("labeling", "importjob"): "projects",
    ("labeling", "reviewrequest"): "oversight",
    ("active_learning", "featureblock"): "features",
}
PROJECT_SLUG = "kept-project"

ContentTypeRow = tuple[int, str, str]


@pytest.fixture
def old_state_apps() -> Iterator[Apps]:
    """Migrates the database back to the old state and yields its historical models; ends at the latest state."""
    executor = MigrationExecutor(connection)
    new_apps_with_migrations = [app for app in NEW_APPS if app in executor.loader.migrated_apps]
    other_leaves = [node for node in executor.loader.graph.leaf_nodes() if node[0] not in PROJECT_APPS]
    try:
        executor.migrate([*OLD_LEAVES, *((app, None) for app in new_apps_with_migrations)])
        executor.loader.build_graph()  # reads the applied migrations again
        yield executor.loader.project_state([*other_leaves, *OLD_LEAVES]).apps
    finally:
        # Whatever failed, the other tests find the database at the latest state.
        call_command("migrate", verbosity=0)


def _project_tables() -> list[str]:
    return sorted(name for name in connection.introspection.table_names() if name.startswith(TABLE_PREFIXES))


def _schema(tables: list[str]) -> dict[str, tuple[list[Any], dict[str, Any]]]:
    """Each table's columns and constraints (indexes included), as PostgreSQL reports them."""
    with connection.cursor() as cursor:
        return {
            table: (
                list(connection.introspection.get_table_description(cursor, table)),
                connection.introspection.get_constraints(cursor, table),
            )
            for table in tables
        }


def _rows(tables: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    with connection.cursor() as cursor:
        snapshot = {}
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} ORDER BY 1")
            snapshot[table] = cursor.fetchall()
        return snapshot


def _content_types() -> set[ContentTypeRow]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, app_label, model FROM django_content_type")
        return set(cursor.fetchall())


def _old_projects_rows_insert(apps: Apps) -> dict[str, Any]:
    """Rows in the models that moved to projects (still labeling's in the old state), and their users."""
    user_model = apps.get_model("auth", "User")
    owner = user_model.objects.create(username="olga", password="!")
    analyst = user_model.objects.create(username="arne", password="!")
    project = apps.get_model("labeling", "Project").objects.create(
        name="Kept project", slug=PROJECT_SLUG, created_by=owner, gold_check_rate=0.1
    )
    label_model = apps.get_model("labeling", "Label")
    spam = label_model.objects.create(project=project, key="spam", name="Spam", hotkey="s", order=0)
    label_model.objects.create(project=project, key="ham", name="Ham", hotkey="h", order=1)
    apps.get_model("labeling", "Membership").objects.create(project=project, user=analyst, role="analyst")
    import_job = apps.get_model("labeling", "ImportJob").objects.create(
        project=project, format="csv", status="succeeded", rows_total=2, items_created=2, created_by=owner
    )
    item_model = apps.get_model("labeling", "Item")
    first, second = (
        item_model.objects.create(
            project=project, external_id=external_id, text=text, content_hash=f"{index}" * 64, split="train"
        )
        for index, (external_id, text) in enumerate([("a1", "Buy cheap watches"), ("a2", "See you at lunch")])
    )
    apps.get_model("accounts", "ApiToken").objects.create(
        user=owner,
        name="cli",
        prefix="abcd1234",
        digest="f" * 64,
        expires_at=timezone.now() + timedelta(days=1),
    )
    return {"owner": owner, "analyst": analyst, "project": project, "spam": spam, "import_job": import_job,
            "first": first, "second": second}  # fmt: skip


def _old_labeling_rows_insert(apps: Apps, made: dict[str, Any]) -> None:
    project, first, second, analyst = made["project"], made["first"], made["second"], made["analyst"]
    annotation = apps.get_model("labeling", "Annotation").objects.create(
        project=project, item=first, annotator=analyst, labels=["spam"], client_uuid=uuid.uuid4(),
        import_job=made["import_job"], source="import",
    )  # fmt: skip
    apps.get_model("labeling", "AnnotationRevision").objects.create(
        annotation=annotation, labels=["ham"], edited_by=analyst
    )
    apps.get_model("labeling", "InteractionEvent").objects.create(
        project=project, item=first, user=analyst, type="submit", payload={"labels": ["spam"]}
    )
    apps.get_model("labeling", "Assignment").objects.create(
        project=project, item=second, user=analyst, expires_at=timezone.now()
    )
    apps.get_model("labeling", "Flag").objects.create(project=project, item=second, user=analyst, comment="?")
    apps.get_model("labeling", "Rationale").objects.create(
        project=project, item=first, annotation=annotation, label="spam", start=0, end=3, quote="Buy"
    )
    apps.get_model("labeling", "GoldLabel").objects.create(
        project=project, item=first, labels=["spam"], decided_by=made["owner"]
    )
    review = apps.get_model("labeling", "ReviewRequest").objects.create(
        project=project, item=second, reasons=["audit"], claimed_by=made["owner"]
    )
    review.passed_by.add(analyst)


def _old_other_rows_insert(apps: Apps, made: dict[str, Any]) -> None:
    """Rows in weak_supervision, active_learning and datasets, whose foreign keys point at labeling's models."""
    project, owner = made["project"], made["owner"]
    function = apps.get_model("weak_supervision", "LabelingFunction").objects.create(
        project=project, name="watches", kind="keyword"
    )
    function.current_version = apps.get_model("weak_supervision", "LabelingFunctionVersion").objects.create(
        labeling_function=function, number=1, label="spam", spec={"keywords": ["watch"]}, created_by=owner
    )
    function.save()
    apps.get_model("weak_supervision", "ExternalVote").objects.create(
        labeling_function=function, item=made["first"], label=made["spam"]
    )
    run = apps.get_model("weak_supervision", "LabelModelRun").objects.create(
        project=project, number=1, status="succeeded", item_count=2, created_by=owner
    )
    apps.get_model("weak_supervision", "RunChunk").objects.create(
        run=run, index=0, path="runs/1/0.npz", rows=2, finished_at=timezone.now()
    )
    apps.get_model("active_learning", "LearnerSettings").objects.create(project=project, batch_size=20)
    apps.get_model("active_learning", "FeatureBlock").objects.create(
        project=project, kind="hashed_tfidf", first_id=made["first"].pk, last_id=made["second"].pk, rows=2,
        path="features/0.npz",
    )  # fmt: skip
    model = apps.get_model("active_learning", "LearnerModel").objects.create(
        project=project, number=1, status="succeeded", strategy="uncertainty", features="hashed_tfidf"
    )
    apps.get_model("active_learning", "ScoreChunk").objects.create(
        model=model, index=0, path="s/0.npz", rows=2
    )
    apps.get_model("active_learning", "Simulation").objects.create(project=project, budget=10, step=5)
    schedule = apps.get_model("datasets", "ExportSchedule").objects.create(
        project=project, name="nightly", every=1
    )
    apps.get_model("datasets", "Snapshot").objects.create(
        project=project, version=1, status="succeeded", run=run, schedule=schedule, created_by=owner
    )


def _old_admin_log_insert(apps: Apps, made: dict[str, Any]) -> None:
    """An admin history entry for the project, through labeling's content type (the old home of Project)."""
    project_type = apps.get_model("contenttypes", "ContentType").objects.get(
        app_label="labeling", model="project"
    )
    apps.get_model("admin", "LogEntry").objects.create(
        user=made["owner"], content_type=project_type, object_id=str(made["project"].pk),
        object_repr="Kept project", action_flag=1,
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_migrate_from_the_state_before_the_split_keeps_every_table_row_and_content_type(
    old_state_apps: Apps,
) -> None:
    # given a database at the state before the split: the old tables are there, unchanged
    tables = _project_tables()
    assert {"labeling_project", "labeling_reviewrequest_passed_by", "active_learning_featureblock"} <= set(
        tables
    )
    schema_before = _schema(tables)
    # ... with a row in every table of the project's apps
    made = _old_projects_rows_insert(old_state_apps)
    _old_labeling_rows_insert(old_state_apps, made)
    _old_other_rows_insert(old_state_apps, made)
    _old_admin_log_insert(old_state_apps, made)
    rows_before = _rows(tables + CONTENT_TYPE_TABLES)
    empty = [table for table, rows in rows_before.items() if not rows]
    assert not empty, f"add a row to these tables in this test, so that their data is checked too: {empty}"
    types_before = _content_types()
    moved_ids = {(app, model): pk for pk, app, model in types_before if (app, model) in MOVED}
    assert set(moved_ids) == set(MOVED), (
        "the old state names the moved models' content types by their old app"
    )

    # when the database is migrated to the state the split ended in, as an operator would
    executor = MigrationExecutor(connection)
    executor.migrate(SPLIT_LEAVES)

    # then the same tables have the same columns, constraints and rows
    assert _project_tables() == tables
    assert _schema(tables) == schema_before
    assert _rows(tables + CONTENT_TYPE_TABLES) == rows_before
    # ... the moved models' content types have their new app label and their old ids, and no other changed
    assert _content_types() == {(pk, MOVED.get((app, model), app), model) for pk, app, model in types_before}
    ContentType.objects.clear_cache()
    for (old_app, model), pk in moved_ids.items():
        assert ContentType.objects.get_for_id(pk).natural_key() == (MOVED[(old_app, model)], model)
    assert (
        Permission.objects.get(codename="view_reviewrequest").content_type_id
        == moved_ids[("labeling", "reviewrequest")]
    )
    # ... and, once migrated to today's state, today's models read what was written before the split
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    project = Project.objects.get(slug=PROJECT_SLUG)
    assert LogEntry.objects.get(object_id=str(project.pk)).get_edited_object() == project
    assert sorted(project.items.values_list("external_id", flat=True)) == ["a1", "a2"]
    assert [label.key for label in project.labels.all()] == ["spam", "ham"]
    assert list(project.memberships.values_list("user__username", "role")) == [("arne", "analyst")]
    # (items by their columns of that state: today's model has columns that later migrations add)
    external_ids = dict(Item.objects.values_list("pk", "external_id"))
    annotation = Annotation.objects.get(project=project)
    assert (external_ids[annotation.item_id], annotation.labels, annotation.import_job.project_id) == (
        "a1", ["spam"], project.pk,
    )  # fmt: skip
    review = ReviewRequest.objects.get(project=project)
    assert (external_ids[review.item_id], [user.username for user in review.passed_by.all()]) == (
        "a2",
        ["arne"],
    )
    block = FeatureBlock.objects.get(project=project)
    assert (block.first_id, block.last_id) == (made["first"].pk, made["second"].pk)
