"""Reads of the feature cache's inputs."""

from __future__ import annotations

from features.choices import HYBRID_CONTEXT, HYBRID_FIELDS, HYBRID_FIELDS_CONTEXT
from features.vectors import context_text, fields_text
from projects.models import Item, Project

FIELDS_SAMPLE = 1_000  # items looked at to tell whether a project's items carry metadata text fields or spans


def project_extra_feature_sets(*, project: Project, sample: int = FIELDS_SAMPLE) -> tuple[str, ...]:
    """The feature sets beyond the text's that a choice on held-out gold (the end model, label-error scans)
    also compares for this project, simplest first, from its first `sample` items: the hybrid features with
    the embedding of the items' metadata text fields where they carry such fields, and with the words
    between the two spans their metadata marks (relation items: `features.vectors.context_text`) where they
    mark such spans."""
    rows = Item.objects.filter(project=project).order_by("pk").values_list("text", "metadata")[:sample]
    fields = context = False
    for text, metadata in rows:
        fields = fields or bool(fields_text(metadata))
        context = context or bool(context_text(text, metadata))
        if fields and context:
            break
    if not context:
        return (HYBRID_FIELDS,) if fields else ()
    return (HYBRID_FIELDS, HYBRID_FIELDS_CONTEXT) if fields else (HYBRID_CONTEXT,)
