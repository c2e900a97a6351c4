"""The labeling app's hook points (core.hooks): what the apps above it do when analysts answer and flag,
and where the suggestion shown beside an item comes from. Receivers register in their AppConfig.ready():
oversight (review) and active_learning (retraining, suggestions)."""

from __future__ import annotations

from dataclasses import dataclass

from core.hooks import Hook
from labeling.models import Annotation, Flag
from projects.models import Membership, Project


@dataclass(frozen=True)
class AnswerGiven:
    """An analyst's answer was stored (created: a new annotation; else a changed one), inside its transaction."""

    project: Project
    annotation: Annotation
    membership: Membership | None
    created: bool
    # What the submit read under the item's lock, so that receivers need not read it again (None: unknown).
    other_labels: tuple[tuple[str, ...], ...] | None = None  # the item's other annotations' labels
    is_gold_check: bool | None = None
    has_gold: bool | None = None  # any gold label, a check or not


@dataclass(frozen=True)
class AnswerTakenBack:
    """An analyst's answer was taken back (undo), inside its transaction: the item's other answers stay."""

    project: Project
    item_id: int


@dataclass(frozen=True)
class ItemFlagged:
    project: Project
    flag: Flag


@dataclass(frozen=True)
class Suggestion:
    """A model's predicted label for an item, as shown to the analyst."""

    label: str
    name: str
    confidence: float
    model: int


answer_given: Hook[AnswerGiven] = Hook(
    "labeling.answer_given", "An answer was stored: review rules (oversight), retraining (active_learning)."
)
answer_taken_back: Hook[AnswerTakenBack] = Hook(
    "labeling.answer_taken_back", "An answer was taken back: a disagreement it made may be over (oversight)."
)
item_flagged: Hook[ItemFlagged] = Hook("labeling.item_flagged", "An item was flagged: it goes to review.")
