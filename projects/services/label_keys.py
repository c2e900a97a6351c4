"""Label keys as an answer gives them: known to the schema, in schema order, one unless multi-label."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from projects.models import Project

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
