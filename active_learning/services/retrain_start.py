"""The doors' start of a retrain: a second click or request while one is under way answers with that one.

`learner_retrain` refuses a second retrain while one is pending, training or scoring (a partial unique
constraint holds it, whatever the race); the page and the API show the running one instead of the refusal.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from active_learning.choices import ModelStatus, Trigger
from active_learning.models import LearnerModel
from active_learning.services.training import learner_retrain
from core.jobs import Started
from projects.models import Project

ACTIVE_STATUSES = (ModelStatus.PENDING, ModelStatus.TRAINING, ModelStatus.SCORING)


def learner_retrain_or_join(
    *, project: Project, user: User | None, trigger: str = Trigger.MANUAL
) -> Started[LearnerModel]:
    """Starts a retrain, or answers with the project's retrain already under way."""
    # Looked up first: on SQLite a transaction takes the write lock as it begins, and a job in progress may
    # hold it (an import), so the answer to a second click would wait for it.
    if (found := _retrain_under_way(project)) is not None:
        return Started(job=found, created=False)
    try:
        return Started(job=learner_retrain(project=project, trigger=trigger, user=user), created=True)
    except ValidationError as exc:
        if exc.code != "busy":
            raise
    found = _retrain_under_way(project)
    if found is None:  # it finished between the refusal and this read: start the next one
        return Started(job=learner_retrain(project=project, trigger=trigger, user=user), created=True)
    return Started(job=found, created=False)


def _retrain_under_way(project: Project) -> LearnerModel | None:
    running = LearnerModel.objects.filter(project=project, status__in=ACTIVE_STATUSES)
    return running.order_by("-number").first()
