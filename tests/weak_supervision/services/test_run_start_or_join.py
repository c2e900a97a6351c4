"""run_start_or_join: one run at a time per project; a second start answers with the run under way."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from projects.models import Project
from tests.projects.factories import ItemFactory, ProjectFactory
from tests.weak_supervision.factories import keyword_lf
from weak_supervision.choices import RunStatus
from weak_supervision.models import LabelModelRun
from weak_supervision.services.runs import ERROR_TOO_FEW_LFS, run_start, run_start_or_join

pytestmark = pytest.mark.django_db


def _project() -> Project:
    project = ProjectFactory()
    ItemFactory.create_batch(4, project=project)
    for name in ("a", "b", "c"):
        keyword_lf(project, name, "spam", name)
    return project


def test_a_second_start_while_the_run_is_pending_answers_with_it(settings: Any) -> None:
    # given a run that no worker took yet (its task waits for the commit, which the test never makes)
    project = _project()
    first = run_start_or_join(project=project, user=None)

    # when it is started again
    second = run_start_or_join(project=project, user=None)

    # then
    assert (first.created, second.created) == (True, False)
    assert second.job.pk == first.job.pk
    assert LabelModelRun.objects.filter(project=project).count() == 1


@pytest.mark.parametrize("status", [RunStatus.SUCCEEDED, RunStatus.FAILED])
def test_a_start_after_the_run_ended_makes_the_next_run(status: str) -> None:
    # given
    project = _project()
    first = run_start(project=project, user=None)
    LabelModelRun.objects.filter(pk=first.pk).update(status=status)

    # when
    second = run_start_or_join(project=project, user=None)

    # then
    assert second.created is True
    assert (first.number, second.job.number) == (1, 2)


def test_a_run_older_than_any_task_may_run_is_not_joined(settings: Any) -> None:
    # given a run still marked running, from longer ago than a task may run (its worker is gone)
    project = _project()
    stale = run_start(project=project, user=None)
    then = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    LabelModelRun.objects.filter(pk=stale.pk).update(status=RunStatus.RUNNING, created_at=then)

    # when
    started = run_start_or_join(project=project, user=None)

    # then a new run starts
    assert started.created is True
    assert started.job.number == 2


def test_run_start_returns_the_run_under_way_too() -> None:
    # given
    project = _project()
    first = run_start(project=project, user=None)

    # when
    second = run_start(project=project, user=None)

    # then
    assert second.pk == first.pk


def test_another_project_s_run_is_not_joined() -> None:
    # given
    other = run_start(project=_project(), user=None)

    # when
    started = run_start_or_join(project=_project(), user=None)

    # then
    assert started.created is True
    assert started.job.pk != other.pk


def test_the_checks_still_refuse_a_project_without_enough_lfs() -> None:
    # given
    project = ProjectFactory()
    ItemFactory(project=project)

    # when
    with pytest.raises(ValidationError) as caught:
        run_start_or_join(project=project, user=None)

    # then
    assert caught.value.messages == [ERROR_TOO_FEW_LFS.format(n=3, have=0)]
    assert LabelModelRun.objects.filter(project=project).count() == 0
