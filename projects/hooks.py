"""The projects app's hook points (core.hooks): what the apps above it do when a project's label schema
changes. Receivers register in their AppConfig.ready() and migrate their own rows, in the caller's
transaction: labeling (answers, gold, evaluation labels, rationales), weak_supervision (LF targets, votes,
weak and end-model labels) and oversight (review requests, inferred labels)."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.hooks import Hook
from projects.models import Label, Project


@dataclass
class LabelsMerged:
    """`source` is being merged into `into`: every stored `source` key becomes `into`. Each receiver adds
    the rows it changed to `counts` (by a name such as "annotations")."""

    project: Project
    source: Label
    into: Label
    keys: tuple[str, ...]  # the schema's keys after the merge, in order (for multi-label answers)
    counts: dict[str, int] = field(default_factory=dict)


labels_merged: Hook[LabelsMerged] = Hook(
    "projects.labels_merged", "A label is merged into another: migrate every row that stores its key."
)
