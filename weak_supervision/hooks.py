"""The weak-supervision app's hook points (core.hooks), for the apps above it: a run's doubts go to review, and
the run page asks for each LF's estimated accuracy (both answered by oversight)."""

from __future__ import annotations

from dataclasses import dataclass

from core.hooks import Hook, Provider
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


@dataclass(frozen=True)
class LfEstimate:
    """A labeling function's accuracy as truth inference estimates it from agreement with the other sources."""

    accuracy: float | None
    interval: tuple[float, float] | None  # 95%
    answered: int  # the items it voted on


@dataclass(frozen=True)
class LfEstimates:
    """The latest truth-inference run's estimate per LF id, and that run's number."""

    run_number: int
    by_lf: dict[int, LfEstimate]


lf_estimates: Provider[Project, LfEstimates] = Provider(
    "weak_supervision.lf_estimates",
    "Each LF's estimated accuracy from truth inference, beside its empirical one on the run page (oversight).",
)
