"""Reads of imported annotations."""

from __future__ import annotations

from collections.abc import Collection

from labeling.choices import AnnotationSource
from labeling.models import Annotation


def imported_annotations_of(item_ids: Collection[int]) -> dict[tuple[int, str], int]:
    """The imported annotations these items hold, their ids by (item, annotator name): how an import finds
    what an earlier one stored (labeling.annotation_ids). One read on the leading column of the annotations'
    (item, annotator) index."""
    if not item_ids:
        return {}
    rows = Annotation.objects.filter(item_id__in=list(item_ids), source=AnnotationSource.IMPORT)
    return {
        (item_id, annotator): pk
        for pk, item_id, annotator in rows.values_list("pk", "item_id", "external_annotator")
    }
