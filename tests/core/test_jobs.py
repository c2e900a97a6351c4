"""core.jobs: where an enqueued task runs. Inline at the commit in the tests; on the background thread after
the commit in an embedded-mode process that serves requests, so that the request answers before the job ends."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, cast

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from active_learning import tasks as active_learning_tasks
from active_learning.models import LearnerModel
from core import jobs
from core.jobs import (
    background_jobs_wait,
    enqueue_later_on_commit,
    enqueue_on_commit,
    tasks_run_in_background,
)
from projects.choices import Role
from projects.models import Membership, Project
from tests.projects.factories import ItemFactory, MembershipFactory, ProjectFactory

WAIT_SECONDS = 10


class ProbeTask:
    """Stands in for a Celery task: records where and when it ran; `apply` waits for `release` when told."""

    name = "tests.probe_task"

    def __init__(self, *, block: bool = False, fail: bool = False) -> None:
        self.calls: list[tuple[tuple[Any, ...], str]] = []
        self.priorities: list[int] = []  # the niceness of the thread it ran on
        self.started, self.finished, self.release = threading.Event(), threading.Event(), threading.Event()
        self.block, self.fail = block, fail
        self.countdowns: list[float] = []
        if not block:
            self.release.set()

    def _run(self, args: tuple[Any, ...]) -> None:
        self.started.set()
        self.release.wait(WAIT_SECONDS)
        self.calls.append((args, threading.current_thread().name))
        self.priorities.append(os.getpriority(os.PRIO_PROCESS, 0))
        self.finished.set()
        if self.fail:
            raise RuntimeError("the probe failed")

    def delay(self, *args: Any) -> None:  # inline: Celery's eager mode runs the task here
        self._run(args)

    def apply(self, args: tuple[Any, ...], throw: bool = False) -> None:  # the background thread's call
        self._run(args)

    def apply_async(self, args: tuple[Any, ...], countdown: float) -> None:  # a broker's delayed call
        self.countdowns.append(countdown)
        self._run(args)


@pytest.fixture
def background(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Embedded mode in a process that serves requests, with the tests' inline switch off."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.OVERSIGHT_TASKS_INLINE = False
    monkeypatch.setattr(jobs._background, "enabled", True)
    yield
    assert background_jobs_wait(WAIT_SECONDS), "the background thread did not finish its jobs"


def test_the_tests_run_tasks_inline_at_the_commit(db: None, django_capture_on_commit_callbacks: Any) -> None:
    # given the test settings (OVERSIGHT_TASKS_INLINE)
    probe = ProbeTask()

    # when a task is enqueued in a transaction
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        enqueue_on_commit(cast(Any, probe), 7, 8)
        ran_before_commit = probe.finished.is_set()

    # then it ran at the commit, in this thread
    assert tasks_run_in_background() is False
    assert ran_before_commit is False
    assert probe.calls == [((7, 8), threading.current_thread().name)]


def test_a_process_that_does_not_serve_requests_runs_tasks_inline(
    settings: Any, db: None, django_capture_on_commit_callbacks: Any
) -> None:
    # given embedded mode with the inline switch off, in a command (nothing called background_jobs_enable)
    settings.OVERSIGHT_TASKS_INLINE = False
    probe = ProbeTask()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(cast(Any, probe), 1)

    # then
    assert tasks_run_in_background() is False
    assert probe.calls == [((1,), threading.current_thread().name)]


def test_in_embedded_mode_a_serving_process_runs_the_task_after_the_commit_on_its_background_thread(
    background: None, db: None, django_capture_on_commit_callbacks: Any
) -> None:
    # given a task that takes until it is released
    probe = ProbeTask(block=True)

    # when it is enqueued and the transaction commits
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(cast(Any, probe), 5)
    returned_after = time.monotonic() - started

    # then the commit returned at once, while the job had not finished; it ends on the background thread
    assert tasks_run_in_background() is True
    assert probe.finished.is_set() is False
    assert returned_after < 1.0
    probe.release.set()
    assert background_jobs_wait(WAIT_SECONDS)
    assert [(args, name.startswith("oversight-jobs")) for args, name in probe.calls] == [((5,), True)]


def test_a_failed_background_job_is_logged_and_the_next_one_runs(
    background: None, db: None, django_capture_on_commit_callbacks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # given a job that fails, then another
    failing, next_one = ProbeTask(fail=True), ProbeTask()

    # when both are enqueued
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(cast(Any, failing), 1)
        enqueue_on_commit(cast(Any, next_one), 2)
    assert background_jobs_wait(WAIT_SECONDS)

    # then the failure is in the log and the second job ran, after the first
    assert "background job tests.probe_task(1,) failed" in caplog.text
    assert [args for args, _ in failing.calls + next_one.calls] == [(1,), (2,)]


def test_nothing_is_enqueued_when_the_transaction_rolls_back(
    background: None, db: None, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    probe = ProbeTask()

    # when the transaction that enqueued the task fails
    def enqueue_then_fail() -> None:
        with transaction.atomic():
            enqueue_on_commit(cast(Any, probe), 1)
            raise ZeroDivisionError

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ZeroDivisionError):
        enqueue_then_fail()

    # then
    assert background_jobs_wait(WAIT_SECONDS)
    assert probe.calls == []


@pytest.mark.django_db(transaction=True)
def test_in_embedded_mode_the_retrain_request_answers_before_the_retrain_ends(
    background: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a project to retrain, whose training task takes until it is released
    project: Project = ProjectFactory()
    ItemFactory.create_batch(3, project=project)
    owner: Membership = MembershipFactory(project=project, role=Role.OWNER)
    probe = ProbeTask(block=True)
    monkeypatch.setattr(active_learning_tasks, "learner_model_train_task", probe)
    client = APIClient()
    client.force_authenticate(owner.user)

    # when the retrain is started (the request's transaction commits for real)
    response = client.post(f"/api/projects/{project.slug}/active-learning/retrain/")

    # then the answer came while the job was still running, and the job ran after it, with the model's id
    assert response.status_code == 202
    assert probe.finished.is_set() is False
    probe.release.set()
    assert background_jobs_wait(WAIT_SECONDS)
    model = LearnerModel.objects.get(project=project)
    assert [args for args, _ in probe.calls] == [(model.pk,)]


def test_background_jobs_run_below_the_priority_of_the_threads_that_serve_requests(
    background: None, db: None, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    # given the serving thread's niceness (the job thread, made once per process, takes the configured one)
    own = os.getpriority(os.PRIO_PROCESS, 0)
    probe = ProbeTask()

    # when a job runs on the background thread
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(cast(Any, probe), 1)
    assert background_jobs_wait(WAIT_SECONDS)

    # then it ran at the lower priority, and the serving thread kept its own
    assert probe.priorities == [max(own, settings.OVERSIGHT_WORKER_NICE)]
    assert os.getpriority(os.PRIO_PROCESS, 0) == own


@pytest.mark.parametrize("nice", [0, 15])
def test_a_thread_lowers_its_priority_only_where_it_runs_higher(settings: Any, nice: int) -> None:
    # given a configured niceness
    settings.OVERSIGHT_WORKER_NICE = nice
    own = os.getpriority(os.PRIO_PROCESS, 0)
    seen: list[int] = []

    # when a new thread lowers its priority
    def lower() -> None:
        jobs.background_priority_lower()
        seen.append(os.getpriority(os.PRIO_PROCESS, 0))

    thread = threading.Thread(target=lower)
    thread.start()
    thread.join(WAIT_SECONDS)

    # then it runs at the larger of the two nicenesses (0: unchanged), and this thread is untouched
    assert seen == [max(own, nice)]
    assert os.getpriority(os.PRIO_PROCESS, 0) == own


def test_a_later_job_runs_on_the_background_thread_after_its_delay(
    background: None, db: None, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    probe = ProbeTask()

    # when it is enqueued for 0.3 s after the commit
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        assert enqueue_later_on_commit(cast(Any, probe), 4, seconds=0.3) is True
    assert probe.finished.is_set() is False

    # then it ran on the background thread, not before its time
    assert probe.finished.wait(WAIT_SECONDS)
    assert time.monotonic() - started >= 0.3
    assert [(args, name.startswith("oversight-jobs")) for args, name in probe.calls] == [((4,), True)]


def test_a_later_job_goes_to_the_broker_with_a_countdown(
    settings: Any, db: None, django_capture_on_commit_callbacks: Any
) -> None:
    # given a broker (not eager)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    probe = ProbeTask()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        assert enqueue_later_on_commit(cast(Any, probe), 2, seconds=7.5) is True

    # then
    assert probe.countdowns == [7.5]
    assert [args for args, _ in probe.calls] == [(2,)]


def test_where_tasks_run_inline_a_later_job_is_not_run(
    db: None, django_capture_on_commit_callbacks: Any
) -> None:
    # given the test settings (inline: nothing outlives the call to run it later)
    probe = ProbeTask()

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        enqueued = enqueue_later_on_commit(cast(Any, probe), 1, seconds=0.0)

    # then the caller is told, and nothing ran
    assert enqueued is False
    assert callbacks == []
    assert probe.calls == []


def test_an_automatic_job_rests_a_multiple_of_its_work_and_its_check_is_enqueued_once(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a share of a fifth: a job that worked 2 s rests 8 s after it finished, one second ago
    settings.OVERSIGHT_AUTO_JOB_MAX_SHARE = 0.2
    finished = timezone.now() - timedelta(seconds=1)
    until = jobs.automatic_rest_until(finished_at=finished, worked_seconds=2.0)
    later: list[float] = []
    monkeypatch.setattr(
        jobs, "enqueue_later_on_commit", lambda task, *args, seconds: later.append(seconds) or True
    )
    key = f"tests:rest:{uuid.uuid4()}"

    # when it falls due twice during the rest, and once after
    resting = [jobs.automatic_job_resting(until, key, cast(Any, ProbeTask()), 1) for _ in range(2)]
    rested = jobs.automatic_job_resting(finished - timedelta(seconds=9), key, cast(Any, ProbeTask()), 1)

    # then it waits, with one check for the rest's end; no rest for nothing recorded or a share of 1
    assert until == finished + timedelta(seconds=8)
    assert resting == [True, True]
    assert rested is False
    assert len(later) == 1
    assert 7.5 <= later[0] <= 8.5
    assert jobs.automatic_rest_until(finished_at=finished, worked_seconds=0.0) is None
    assert jobs.automatic_rest_until(finished_at=None, worked_seconds=2.0) is None
    settings.OVERSIGHT_AUTO_JOB_MAX_SHARE = 1.0
    assert jobs.automatic_rest_until(finished_at=finished, worked_seconds=2.0) is None


def test_where_nothing_can_run_later_the_next_due_check_tries_again(settings: Any) -> None:
    # given the tests' inline mode (a later job is not run) and a rest that has 8 s to go
    settings.OVERSIGHT_AUTO_JOB_MAX_SHARE = 0.2
    until = timezone.now() + timedelta(seconds=8)
    key = f"tests:rest:{uuid.uuid4()}"

    # when it falls due
    resting = jobs.automatic_job_resting(until, key, cast(Any, ProbeTask()), 1)

    # then it waits, and the cache does not claim a check that nothing will run
    assert resting is True
    assert cache.get(key) is None
