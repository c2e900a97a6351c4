"""On PostgreSQL: the COPY writer's annotation ids start with their items' ids, so they ascend with them, and
a re-import finds the annotations by item and annotator."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from imports.services.jobs import import_options_build, items_import
from labeling.models import Annotation
from projects.choices import OnConflict
from projects.models import Item
from tests.projects.factories import ProjectFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_copy_writer_stores_ascending_ids_that_a_reimport_finds(tmp_path: Path) -> None:
    # given
    assert connection.vendor == "postgresql"
    project = ProjectFactory(labels=["ham", "spam"])
    path = tmp_path / "items.csv"
    path.write_text(
        "id,text,label\n" + "".join(f"r{n},text {n},{'ham' if n % 2 else 'spam'}\n" for n in range(50))
    )
    options = import_options_build(id_field="id", label_field="label", on_conflict=OnConflict.UPDATE)

    # when imported twice
    first = items_import(project=project, source=path, options=options)
    ids_before = set(Annotation.objects.filter(project=project).values_list("client_uuid", flat=True))
    again = items_import(project=project, source=path, options=options)

    # then each id starts with its item's, so they ascend with the items, and the second import updated the
    # same annotations
    rows = list(
        Annotation.objects.filter(project=project).order_by("item_id").values_list("item_id", "client_uuid")
    )
    assert [(value.int >> 80, value.version) for _, value in rows] == [(item_id, 8) for item_id, _ in rows]
    assert [value.hex for _, value in rows] == sorted(value.hex for _, value in rows)
    assert {value for _, value in rows} == ids_before
    assert (first.annotations_imported, again.annotations_imported, len(rows)) == (50, 50, 50)
    assert Item.objects.filter(project=project, remaining=0).count() == 50
