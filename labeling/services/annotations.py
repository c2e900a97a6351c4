"""Writes to annotations outside the labeling hot path. Edits keep the earlier answer as a revision."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from labeling.models import Annotation, AnnotationRevision, Project

ERROR_NO_LABEL = "Choose at least one label."
ERROR_ONE_LABEL = "This project takes exactly one label per item."
ERROR_UNKNOWN_LABELS = "Unknown label(s): {labels}."


def annotation_labels_validate(*, project: Project, labels: list[str]) -> list[str]:
    """Known label keys, deduplicated, in schema order; one of them unless the project is multi-label."""
    order = {key: index for index, key in enumerate(project.labels.values_list("key", flat=True))}
    unknown = sorted(set(labels) - set(order))
    if unknown:
        raise ValidationError(ERROR_UNKNOWN_LABELS.format(labels=", ".join(unknown)), code="unknown_label")
    keys = sorted(set(labels), key=order.__getitem__)
    if not keys:
        raise ValidationError(ERROR_NO_LABEL, code="no_label")
    if len(keys) > 1 and not project.multi_label:
        raise ValidationError(ERROR_ONE_LABEL, code="single_label")
    return keys


def annotation_update(
    *, annotation: Annotation, labels: list[str], edited_by: User | None, lead_time_ms: int | None = None
) -> Annotation:
    """Changes an annotation's labels; the previous labels are kept as an AnnotationRevision."""
    keys = annotation_labels_validate(project=annotation.project, labels=labels)
    with transaction.atomic():
        locked = Annotation.objects.select_for_update().get(pk=annotation.pk)
        if locked.labels == keys:
            return locked
        AnnotationRevision.objects.create(
            annotation=locked, labels=locked.labels, lead_time_ms=locked.lead_time_ms, edited_by=edited_by
        )
        locked.labels = keys
        if lead_time_ms is not None:
            locked.lead_time_ms = lead_time_ms
        locked.save(update_fields=["labels", "lead_time_ms", "updated_at"])
    return locked
