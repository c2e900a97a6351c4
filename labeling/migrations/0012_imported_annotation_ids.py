"""Imported annotations take ids that ascend with their item (labeling.annotation_ids): a version 8 UUID of
the item's id and the MD5 of the annotator's name, in place of uuid5(namespace, project, external id,
annotator). Both are functions of what the import knows, so re-importing a file still finds the annotations
an earlier import stored. The rule is copied here: a migration keeps the rule of its day.

No new id can meet an old one during the update: new ids are version 8, the old imported ones version 5 and
analysts' ids version 4.
"""

import hashlib
import uuid

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

OLD_NAMESPACE = uuid.UUID("6f1b2c52-4f55-4f0b-9a43-0b6e8a3c1d10")
ITEM_MASK = (1 << 48) - 1

TO_NEW_POSTGRESQL = """
UPDATE labeling_annotation
SET client_uuid = (
    lpad(to_hex(item_id & 281474976710655), 12, '0') || '8'
    || substr(md5(external_annotator), 1, 3)
    || translate(substr(md5(external_annotator), 4, 1), '0123456789abcdef', '89ab89ab89ab89ab')
    || substr(md5(external_annotator), 5, 15)
)::uuid
WHERE source = 'import'"""

TO_NEW_SQLITE = """
UPDATE labeling_annotation SET client_uuid = oversight_imported_uuid(item_id, external_annotator)
WHERE source = 'import'"""


def new_id(item_id: int, annotator: str) -> str:
    digest = hashlib.md5(annotator.encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"{item_id & ITEM_MASK:012x}8{digest[0:3]}{'89ab'[int(digest[3], 16) & 3]}{digest[4:19]}"


def ids_to_new(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(TO_NEW_POSTGRESQL)
        return
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.create_function("oversight_imported_uuid", 2, new_id, deterministic=True)
        with connection.cursor() as cursor:
            cursor.execute(TO_NEW_SQLITE)
        return
    annotation_model = apps.get_model("labeling", "Annotation")
    rows = annotation_model.objects.filter(source="import").values_list("pk", "item_id", "external_annotator")
    for pk, item_id, annotator in rows.iterator(chunk_size=5000):
        annotation_model.objects.filter(pk=pk).update(client_uuid=new_id(item_id, annotator))


def ids_to_old(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Back to uuid5(namespace, "project\\x1fexternal id\\x1fannotator"), what the code before read."""
    annotation_model = apps.get_model("labeling", "Annotation")
    rows = annotation_model.objects.filter(source="import").values_list(
        "pk", "project_id", "item__external_id", "external_annotator"
    )
    for pk, project_id, external_id, annotator in rows.iterator(chunk_size=5000):
        old = uuid.uuid5(OLD_NAMESPACE, f"{project_id}\x1f{external_id}\x1f{annotator}")
        annotation_model.objects.filter(pk=pk).update(client_uuid=old)


class Migration(migrations.Migration):
    dependencies = [
        ("labeling", "0011_item_answer_summary"),
    ]

    operations = [
        migrations.RunPython(ids_to_new, ids_to_old, elidable=True),
    ]
