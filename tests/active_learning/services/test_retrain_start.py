"""learner_retrain_or_join: the doors' retrain start answers a second start with the retrain under way."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError

from active_learning.choices import ModelStatus
from active_learning.models import LearnerModel
from active_learning.services.retrain_start import learner_retrain_or_join
from active_learning.services.training import ERROR_MULTI_LABEL
from projects.models import Project


def test_a_second_start_while_the_retrain_is_pending_answers_with_it(
    corpus_project: Callable[..., Project],
) -> None:
    # given a retrain that no worker took yet (the test never commits, so its task waits)
    project = corpus_project(items=20, gold=10)
    first = learner_retrain_or_join(project=project, user=None)

    # when
    second = learner_retrain_or_join(project=project, user=None)

    # then
    assert (first.created, second.created) == (True, False)
    assert (first.job.number, second.job.number) == (1, 1)
    assert LearnerModel.objects.filter(project=project).count() == 1


@pytest.mark.parametrize("status", [ModelStatus.SUCCEEDED, ModelStatus.FAILED])
def test_a_start_after_the_retrain_ended_makes_the_next_model(
    corpus_project: Callable[..., Project], status: str
) -> None:
    # given
    project = corpus_project(items=20, gold=10)
    first = learner_retrain_or_join(project=project, user=None).job
    LearnerModel.objects.filter(pk=first.pk).update(status=status)

    # when
    second = learner_retrain_or_join(project=project, user=None)

    # then
    assert second.created is True
    assert second.job.number == 2


def test_other_refusals_are_still_raised(corpus_project: Callable[..., Project]) -> None:
    # given a multi-label project
    project = corpus_project(items=20, gold=10)
    Project.objects.filter(pk=project.pk).update(multi_label=True, kind="multi")
    project.refresh_from_db()

    # when
    with pytest.raises(ValidationError) as caught:
        learner_retrain_or_join(project=project, user=None)

    # then
    assert caught.value.messages == [ERROR_MULTI_LABEL]
    assert LearnerModel.objects.filter(project=project).count() == 0
