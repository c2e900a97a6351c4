"""Reads of the feature cache's inputs."""

from __future__ import annotations

from features.vectors import extra_feature_sets
from projects.models import Item, Project

FIELDS_SAMPLE = 1_000  # items looked at to tell whether a project's items carry metadata text fields or spans


def project_extra_feature_sets(*, project: Project, sample: int = FIELDS_SAMPLE) -> tuple[str, ...]:
    """The feature sets beyond the text's that a choice on held-out gold (the end model, label-error scans
    and active learning's retrains) also compare for this project, simplest first, from its first `sample`
    items (`features.vectors.extra_feature_sets`)."""
    rows = Item.objects.filter(project=project).order_by("pk").values_list("text", "metadata")[:sample]
    return extra_feature_sets(rows)
