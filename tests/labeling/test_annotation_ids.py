"""Imported annotations' ids: a function of item and annotator that ascends with the item, and the migration
that gives annotations imported before it those ids."""

from __future__ import annotations

import importlib
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from labeling.annotation_ids import IMPORTED_UUID_VERSION, imported_annotation_uuid
from labeling.models import Annotation
from tests.labeling.imported_annotation_ids import (
    import_again,
    imported_ids,
    migration_targets,
    new_ids_expected,
    old_imported_annotations,
)

migration = importlib.import_module("labeling.migrations.0012_imported_annotation_ids")


def test_an_imported_annotation_id_is_a_version_8_uuid_of_its_item_and_annotator() -> None:
    # given / when
    value = uuid.UUID(imported_annotation_uuid(1234, "ann"))

    # then it is a valid RFC 9562 UUID whose first 48 bits are the item's id, and it never changes
    assert (value.version, value.variant) == (IMPORTED_UUID_VERSION, uuid.RFC_4122)
    assert value.int >> 80 == 1234
    assert imported_annotation_uuid(1234, "ann") == value.hex
    assert len(value.hex) == 32


def test_ids_ascend_with_the_item_and_differ_by_annotator() -> None:
    # given annotators with names of every kind
    annotators = ["", "ann", "Ann", "Zoë 😀", "x" * 255]

    # when
    ids = [imported_annotation_uuid(item_id, name) for item_id in (1, 2, 10**9, 2**47) for name in annotators]

    # then an item's ids sort before the next item's, and no two are the same
    assert [value[:12] for value in ids] == sorted(value[:12] for value in ids)
    assert ids[:: len(annotators)] == sorted(ids[:: len(annotators)])
    assert len(set(ids)) == len(ids)


def test_the_migration_copies_the_rule_of_the_code() -> None:
    for item_id, name in [(1, ""), (77, "ann"), (2**40 + 3, "Zoë 😀")]:
        assert migration.new_id(item_id, name) == imported_annotation_uuid(item_id, name)


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_old_imported_annotations_the_new_ids_and_a_reimport_finds_them(
    tmp_path: Path,
) -> None:
    # given annotations an import stored under the old ids (uuid5), and an analyst's answer
    executor = MigrationExecutor(connection)
    before, after = migration_targets(executor)
    executor.migrate(before)
    project_id, item_ids, human = old_imported_annotations(executor.loader.project_state(before).apps)

    # when
    executor = MigrationExecutor(connection)
    executor.migrate(after)

    # then the imported ones carry the new ids, the analyst's keeps its own
    assert imported_ids(project_id) == new_ids_expected(item_ids)
    assert Annotation.objects.filter(client_uuid=human, source="human").exists()
    # and importing the same rows again (updating) finds them: three updated, none added
    assert import_again(project_id, tmp_path) == (3, 4)
    answers = Annotation.objects.filter(project_id=project_id, source="import")
    assert sorted(answers.values_list("external_annotator", "labels")) == [
        ("", ["spam"]), ("Zoë 😀", ["spam"]), ("ann", ["ham"])
    ]  # fmt: skip
