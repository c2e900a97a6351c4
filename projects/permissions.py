"""What each project role may do. One table, used by the UI and the API alike."""

from __future__ import annotations

import enum

from projects.choices import Role


class Action(enum.Enum):
    VIEW = "view"
    LABEL = "label"
    REVIEW = "review"
    OVERSEE = "oversee"
    EXPORT = "export"
    IMPORT = "import"
    TRAIN = "train"
    WRITE_LFS = "write_lfs"
    EDIT_PROJECT = "edit_project"
    MANAGE_MEMBERS = "manage_members"
    SEE_OTHERS_ANSWERS = "see_others_answers"
    SEE_MODEL_OUTPUTS = "see_model_outputs"


_ALLOWED: dict[Action, frozenset[str]] = {
    Action.VIEW: frozenset(Role.values),
    Action.LABEL: frozenset(Role.values),
    Action.REVIEW: frozenset({Role.OWNER, Role.REVIEWER}),
    # Agreement, every analyst's statistics, the annotator table: everyone but analysts (who see their own).
    Action.OVERSEE: frozenset({Role.OWNER, Role.REVIEWER, Role.DATA_SCIENTIST}),
    Action.IMPORT: frozenset({Role.OWNER, Role.DATA_SCIENTIST}),
    Action.WRITE_LFS: frozenset({Role.OWNER, Role.DATA_SCIENTIST}),
    # Active learning: its settings, retraining on demand and simulations.
    Action.TRAIN: frozenset({Role.OWNER, Role.DATA_SCIENTIST}),
    # Snapshots: making them and scheduling exports (everyone who may oversee may list and download them).
    Action.EXPORT: frozenset({Role.OWNER, Role.DATA_SCIENTIST}),
    Action.EDIT_PROJECT: frozenset({Role.OWNER}),
    Action.MANAGE_MEMBERS: frozenset({Role.OWNER}),
    # Blind labeling: analysts see only their own answers, flags and events, and no other analyst's name; so
    # overlap, agreement and gold checks measure independent answers, not copying.
    Action.SEE_OTHERS_ANSWERS: frozenset({Role.OWNER, Role.REVIEWER, Role.DATA_SCIENTIST}),
    # LF votes, the label and end models' answers, labeling functions, runs and models (their pages and
    # endpoints too). Analysts see only the active-learning suggestion, where the project lets them.
    Action.SEE_MODEL_OUTPUTS: frozenset({Role.OWNER, Role.REVIEWER, Role.DATA_SCIENTIST}),
}


def role_allows(role: str, action: Action) -> bool:
    return role in _ALLOWED[action]
