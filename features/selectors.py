"""Reads of the feature cache's inputs."""

from __future__ import annotations

from features.vectors import fields_text
from projects.models import Item, Project

FIELDS_SAMPLE = 1_000  # items looked at to tell whether a project's items carry metadata text fields


def project_has_text_fields(*, project: Project, sample: int = FIELDS_SAMPLE) -> bool:
    """Whether the project's items carry metadata text fields (`features.vectors.fields_text`), from its
    first `sample` items."""
    values = Item.objects.filter(project=project).order_by("pk").values_list("metadata", flat=True)[:sample]
    return any(fields_text(metadata) for metadata in values)
