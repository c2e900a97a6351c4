"""What the migration tests of imported annotation ids share (SQLite in tests/labeling, PostgreSQL in
tests/integration): annotations an import stored under the old ids (uuid5 of project, external id and
annotator), written through the models of the state before the migration, and a file that imports them again."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.db.migrations.executor import MigrationExecutor

from imports.services.jobs import import_options_build, items_import
from labeling.annotation_ids import imported_annotation_uuid
from labeling.models import Annotation
from projects.choices import OnConflict
from projects.models import Project

OLD_NAMESPACE = uuid.UUID("6f1b2c52-4f55-4f0b-9a43-0b6e8a3c1d10")
# (external id, annotator, labels): long format, two annotators on d1, one with a name that is not ASCII.
OLD_ROWS = [("d1", "ann", ["spam"]), ("d1", "Zoë 😀", ["ham"]), ("d2", "", ["ham"])]
BEFORE = ("labeling", "0011_item_answer_summary")


def migration_targets(executor: MigrationExecutor) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The state just before the new ids (labeling 0011, every other app at its latest), and the latest."""
    after = executor.loader.graph.leaf_nodes()
    before = [BEFORE if app == "labeling" else (app, name) for app, name in after]
    return before, after


def old_imported_annotations(apps: Any) -> tuple[int, dict[tuple[str, str], int], uuid.UUID]:
    """A project whose import stored OLD_ROWS under the old ids, and an analyst's answer (a random id);
    returns the project's id, each (external id, annotator)'s item id, and the analyst's answer's id."""
    project_model, item_model = apps.get_model("projects", "Project"), apps.get_model("projects", "Item")
    annotation_model = apps.get_model("labeling", "Annotation")
    project = project_model.objects.create(name="Old import", slug="old-import", overlap=3)
    for order, key in enumerate(("ham", "spam")):
        apps.get_model("projects", "Label").objects.create(
            project=project, key=key, name=key.title(), order=order
        )
    items = {
        external_id: item_model.objects.create(
            project=project, external_id=external_id, text=f"text {external_id}"
        )
        for external_id in ("d1", "d2")
    }
    for external_id, annotator, labels in OLD_ROWS:
        annotation_model.objects.create(
            project=project, item=items[external_id], external_annotator=annotator, labels=labels,
            source="import", client_uuid=uuid.uuid5(OLD_NAMESPACE, f"{project.pk}\x1f{external_id}\x1f{annotator}"),
        )  # fmt: skip
    human = uuid.uuid4()
    annotation_model.objects.create(project=project, item=items["d2"], labels=["spam"], client_uuid=human)
    return project.pk, {(e, a): items[e].pk for e, a, _ in OLD_ROWS}, human


def new_ids_expected(item_ids: dict[tuple[str, str], int]) -> set[tuple[int, str, uuid.UUID]]:
    return {(item_id, annotator, uuid.UUID(imported_annotation_uuid(item_id, annotator)))
            for (_, annotator), item_id in item_ids.items()}  # fmt: skip


def imported_ids(project_id: int) -> set[tuple[int, str, uuid.UUID]]:
    rows = Annotation.objects.filter(project_id=project_id, source="import")
    return set(rows.values_list("item_id", "external_annotator", "client_uuid"))


def import_again(project_id: int, tmp_path: Path) -> tuple[int, int]:
    """The same rows imported again with new labels (updating): (annotations imported, annotations held)."""
    path = tmp_path / "again.csv"
    path.write_text(
        "id,text,label,annotator\n" + "".join(f"{e},text {e},{'ham' if labels == ['spam'] else 'spam'},{a}\n"
                                               for e, a, labels in OLD_ROWS),
        encoding="utf-8",
    )  # fmt: skip
    project = Project.objects.get(pk=project_id)
    options = import_options_build(
        id_field="id", label_field="label", annotator_field="annotator", on_conflict=OnConflict.UPDATE
    )
    result = items_import(project=project, source=path, options=options)
    return result.annotations_imported, Annotation.objects.filter(project_id=project_id).count()
