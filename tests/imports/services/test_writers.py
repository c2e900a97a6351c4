"""The SQLite writer (the embedded default's): plain tuples through `executemany`, ids after the largest."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from django.db import connection

from imports.services.jobs import import_options_build, items_import
from imports.services.writers import SqliteBatchWriter, batch_writer_for_connection
from labeling.choices import AnnotationSource
from labeling.models import Annotation
from projects.choices import OnConflict
from projects.models import Item
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_sqlite_gets_the_sqlite_writer() -> None:
    # given
    assert connection.vendor == "sqlite"

    # when
    writer = batch_writer_for_connection(
        project=ProjectFactory(), on_conflict=OnConflict.SKIP, label_ids={}, import_job=None
    )

    # then
    assert isinstance(writer, SqliteBatchWriter)


def test_rows_written_by_the_sqlite_writer_read_back_through_the_orm_as_written(tmp_path: Path) -> None:
    # given a project whose last item was deleted (its id must never be given again), and a file with a
    # labeled row, metadata, an unlabeled row and characters SQL would mind
    project = ProjectFactory(labels=["ham", "spam"])
    ItemFactory(project=project)
    deleted = ItemFactory(project=project)
    deleted_id = deleted.pk
    deleted.delete()
    path = tmp_path / "items.jsonl"
    path.write_text(
        '{"id": "a", "text": "it\'s \\"quoted\\"; DROP TABLE x", "label": "spam", "meta": {"n": 1}}\n'
        '{"id": "b", "text": "second\\tline\\nbreak"}\n'
    )

    # when
    result = items_import(
        project=project, source=path,
        options=import_options_build(id_field="id", label_field="label", metadata_fields=["meta"]),
    )  # fmt: skip

    # then the items come after the deleted one, and read back as they were written
    assert (result.items_created, result.annotations_imported) == (2, 1)
    first, second = Item.objects.filter(project=project, external_id__in=["a", "b"]).order_by("external_id")
    assert deleted_id < first.pk < second.pk
    assert first.text == 'it\'s "quoted"; DROP TABLE x'
    assert first.metadata == {"meta": {"n": 1}}
    assert second.text == "second\tline\nbreak"
    assert (first.remaining, second.remaining) == (0, 1)
    assert first.created_at.tzinfo is not None
    answer = Annotation.objects.get(item=first)
    assert answer.labels == ["spam"]
    assert answer.source == AnnotationSource.IMPORT
    assert (answer.client_uuid.int >> 80, answer.client_uuid.version) == (first.pk, 8)
    assert Annotation.objects.filter(client_uuid=answer.client_uuid).count() == 1


@pytest.mark.parametrize("update", [True, False])
def test_a_reimport_finds_annotations_an_earlier_release_stored_by_item_and_annotator(
    tmp_path: Path, update: bool
) -> None:
    # given an item whose imported answers carry ids of an earlier layout (uuid5, random), by two annotators
    project = ProjectFactory(labels=["ham", "spam"])
    item = ItemFactory(project=project, external_id="a", text="t")
    for name, old_id in [("ann", uuid.uuid5(uuid.NAMESPACE_URL, "a/ann")), ("bob", uuid.uuid4())]:
        Annotation.objects.create(project=project, item=item, external_annotator=name, labels=["ham"],
                                  source=AnnotationSource.IMPORT, client_uuid=old_id)  # fmt: skip
    item.remaining = max(0, item.remaining - 2)
    item.save()
    path = tmp_path / "again.csv"
    path.write_text("id,text,label,annotator\na,t,spam,ann\na,t,spam,bob\na,t,spam,cy\n")

    # when the same rows are imported again, with a third annotator
    result = items_import(
        project=project, source=path,
        options=import_options_build(id_field="id", label_field="label", annotator_field="annotator",
                                     on_conflict=OnConflict.UPDATE if update else OnConflict.SKIP),
    )  # fmt: skip

    # then, updating, the two are found and updated and only the third is added; skipping, the known item's
    # rows change nothing
    answers = dict(Annotation.objects.filter(item=item).values_list("external_annotator", "labels"))
    if update:
        assert answers == {"ann": ["spam"], "bob": ["spam"], "cy": ["spam"]}
    else:
        assert answers == {"ann": ["ham"], "bob": ["ham"]}
    assert result.annotations_imported == (3 if update else 0)
