"""The weak-supervision app's hook points (core.hooks), for the apps above it."""

from __future__ import annotations

from dataclasses import dataclass

from core.hooks import Hook
from projects.models import Project

# At most this many of the label model's least confident items enter the queue per run: a run over a
# million items must not bury the disagreements under model doubts.
LABEL_MODEL_REVIEW_LIMIT = 500


@dataclass(frozen=True)
class RunDoubts:
    """A finished label-model run's least confident items (under the project's threshold): id -> confidence."""

    project: Project
    confidences: dict[int, float]


run_doubts: Hook[RunDoubts] = Hook(
    "weak_supervision.run_doubts", "A run's least confident items: they go to review (oversight)."
)
