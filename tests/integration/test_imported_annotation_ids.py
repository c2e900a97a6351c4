"""On PostgreSQL: the migration's SQL gives annotations imported before it the ids the code computes, and
the COPY writer's ids ascend with the items and are found again by a re-import."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from imports.services.jobs import import_options_build, items_import
from labeling.annotation_ids import imported_annotation_uuid
from labeling.models import Annotation
from projects.choices import OnConflict
from projects.models import Item
from tests.labeling.imported_annotation_ids import (
    import_again,
    imported_ids,
    migration_targets,
    new_ids_expected,
    old_imported_annotations,
)
from tests.projects.factories import ProjectFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_migration_sql_gives_old_imported_annotations_the_ids_of_the_code(tmp_path: Path) -> None:
    # given annotations an import stored under the old ids (uuid5), and an analyst's answer
    assert connection.vendor == "postgresql"
    executor = MigrationExecutor(connection)
    before, after = migration_targets(executor)
    executor.migrate(before)
    project_id, item_ids, human = old_imported_annotations(executor.loader.project_state(before).apps)

    # when
    executor = MigrationExecutor(connection)
    executor.migrate(after)

    # then md5() and translate() in SQL give what labeling.annotation_ids gives, non-ASCII names included
    assert imported_ids(project_id) == new_ids_expected(item_ids)
    assert Annotation.objects.filter(client_uuid=human, source="human").exists()
    assert import_again(project_id, tmp_path) == (3, 4)


def test_the_copy_writer_stores_ascending_ids_that_a_reimport_finds(tmp_path: Path) -> None:
    # given
    project = ProjectFactory(labels=["ham", "spam"])
    path = tmp_path / "items.csv"
    path.write_text(
        "id,text,label\n" + "".join(f"r{n},text {n},{'ham' if n % 2 else 'spam'}\n" for n in range(50))
    )
    options = import_options_build(id_field="id", label_field="label", on_conflict=OnConflict.UPDATE)

    # when imported twice
    first = items_import(project=project, source=path, options=options)
    again = items_import(project=project, source=path, options=options)

    # then the ids are the items' and ascend with them, and the second import updated the same annotations
    rows = list(
        Annotation.objects.filter(project=project).order_by("item_id").values_list("item_id", "client_uuid")
    )
    assert [value.hex for _, value in rows] == [imported_annotation_uuid(item_id, "") for item_id, _ in rows]
    assert [value.hex for _, value in rows] == sorted(value.hex for _, value in rows)
    assert (first.annotations_imported, again.annotations_imported, len(rows)) == (50, 50, 50)
    assert Item.objects.filter(project=project, remaining=0).count() == 50
