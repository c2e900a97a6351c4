"""The one way services hand work to a Celery task: `enqueue_on_commit(task, *ids)`, once the transaction
that recorded the work commits (STYLE.md §6). Where the task runs depends on the mode:

- with a broker (REDIS_URL): `task.delay(*ids)`, and a worker takes it;
- embedded mode (no broker), in a process that serves requests (config/wsgi.py and config/asgi.py call
  `background_jobs_enable()`): the task runs after the commit on this process's one background thread, so
  the request that started it answers at once and its page polls the job's progress. One thread, one job at
  a time: SQLite takes one writer at a time anyway (WAL lets the pages read meanwhile; BEGIN IMMEDIATE and
  the 30 s busy timeout make a writer wait for the lock instead of failing). The thread closes its database
  connections after each job. Jobs still queued when the process exits are run before it exits;
- everywhere else (commands, the shell, `settings.OVERSIGHT_TASKS_INLINE`, which the tests set): the task
  runs at the commit, in the committing thread (Celery's eager mode), as a worker would run it.

`Started` is what a door's idempotent start returns: the job, and whether this call created it or found the
same job already queued or running (a double click, a second request: answered with the running one).
"""

from __future__ import annotations

import logging
import math
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Generic, TypeVar

from celery import Task
from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections, connections, transaction
from django.utils import timezone

logger = logging.getLogger("oversight.jobs")

J = TypeVar("J")


@dataclass(frozen=True)
class Started(Generic[J]):
    """A start's answer: the job, and True when this call created it (False: it was already under way)."""

    job: J
    created: bool


def join_since() -> datetime:
    """Jobs queued or running since then may be joined by a second start. An older one outlived every time
    limit a task has (CELERY_TASK_TIME_LIMIT): its worker, or the process that held it, is gone, so it
    must not keep new starts away."""
    return timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)


class _Background:
    """One worker thread with a queue (a one-thread pool, created on first use). At exit the interpreter lets
    it finish the jobs queued so far, as concurrent.futures does for every pool."""

    def __init__(self) -> None:
        self.enabled = False
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._pending: set[Future[None]] = set()

    def submit(self, task: Task[..., Any], args: tuple[Any, ...]) -> None:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="oversight-jobs", initializer=background_priority_lower
                )
            future = self._pool.submit(_job_run, task, args)
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def wait(self, timeout: float | None) -> bool:
        """Waits until every job submitted so far has ended; False when `timeout` seconds passed first."""
        with self._lock:
            pending = set(self._pending)
        _, not_done = wait(pending, timeout=timeout)
        return not not_done


_background = _Background()


def background_priority_lower() -> None:
    """Lowers the calling thread's CPU priority to settings.OVERSIGHT_WORKER_NICE where it runs higher: the
    embedded mode's job thread and Celery worker processes call it when they start, so that a retrain on the
    machine that serves requests waits for the analysts' requests rather than delaying them. On Linux a
    niceness is per thread (the threads serving requests keep theirs) and a forked process inherits it.
    Lowering one's own priority needs no privilege; where it is refused anyway, nothing changes."""
    target = int(settings.OVERSIGHT_WORKER_NICE)
    try:
        if target > os.getpriority(os.PRIO_PROCESS, 0):
            os.setpriority(os.PRIO_PROCESS, 0, target)
    except (AttributeError, OSError):  # not a Unix, or refused
        logger.warning("could not lower the background priority to nice %s", target)


def _job_run(task: Task[..., Any], args: tuple[Any, ...]) -> None:
    """A job on the background thread: run eagerly (tasks it starts in turn run inline, or queue behind it)
    with fresh database connections, which it closes after (the thread lives as long as the process)."""
    close_old_connections()
    try:
        task.apply(args=args, throw=True)
    except Exception:
        # The job records its own failure where it can (failed status, error text); the log has the rest.
        logger.exception("background job %s%s failed", task.name, args)
    finally:
        connections.close_all()


def background_jobs_enable() -> None:
    """Declares that this process serves requests: in embedded mode, tasks run after the response."""
    _background.enabled = True


def background_jobs_wait(timeout: float | None = None) -> bool:
    """Waits for the background thread's queue to empty (tests, and a command that must see the result)."""
    return _background.wait(timeout)


def tasks_run_in_background() -> bool:
    """Whether an enqueued task runs on this process's background thread (embedded mode, serving)."""
    eager = bool(getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False))
    inline = bool(getattr(settings, "OVERSIGHT_TASKS_INLINE", False))
    return eager and not inline and _background.enabled


def enqueue_on_commit(task: Task[..., Any], *args: Any, using: str | None = None) -> None:
    """Hands `task(*args)` (ids: tasks load what they need) to the workers once the current transaction
    commits; at once where there is none. See the module's docstring for where it runs."""
    if tasks_run_in_background():
        transaction.on_commit(partial(_background.submit, task, args), using=using)
    else:
        transaction.on_commit(partial(task.delay, *args), using=using)


def enqueue_later_on_commit(
    task: Task[..., Any], *args: Any, seconds: float, using: str | None = None
) -> bool:
    """Hands `task(*args)` to the workers `seconds` after the current transaction commits: with a broker,
    Celery's countdown (the worker holds it until then); on an embedded-mode serving process, a timer that
    queues it on the background thread. Where tasks run inline (commands, the shell, the tests) nothing
    outlives the call to run it later, so nothing is enqueued and it answers False: a caller's next trigger
    must repeat the work (the retrain's rest, active_learning.services.training, is one)."""
    delay = max(0.0, float(seconds))
    if tasks_run_in_background():

        def later() -> None:
            timer = threading.Timer(delay, _background.submit, args=(task, args))
            timer.daemon = True
            timer.start()

        transaction.on_commit(later, using=using)
        return True
    if bool(getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False)):
        return False
    transaction.on_commit(partial(task.apply_async, args=args, countdown=delay), using=using)
    return True


# --- automatic jobs rest between runs ---------------------------------------------------------------------
# A project's automatic retrains and truth-inference runs follow its answers (every N of them); on a big project
# one run can take longer than N answers do, and back to back they would hold a core, and the rows they write,
# for as long as analysts work. Each kind of automatic job therefore takes at most a share of the time.


def automatic_rest_until(*, finished_at: datetime | None, worked_seconds: float) -> datetime | None:
    """Until when a project's next automatic job of a kind waits, after one that finished at `finished_at`
    having worked `worked_seconds`: that kind takes at most settings.OVERSIGHT_AUTO_JOB_MAX_SHARE of the time,
    so it rests worked * (1 / share - 1). None: no rest (nothing finished, nothing recorded, or a share of 1).
    A job started by hand never waits."""
    share = float(settings.OVERSIGHT_AUTO_JOB_MAX_SHARE)
    if finished_at is None or worked_seconds <= 0 or share >= 1:
        return None
    return finished_at + timedelta(seconds=worked_seconds * (1 / share - 1))


def automatic_job_resting(rest_until: datetime | None, key: str, task: Task[..., Any], *args: Any) -> bool:
    """Whether an automatic job that fell due must wait for `rest_until`; if so, its check (`task(*args)`) is
    enqueued once for when the rest ends (`key` names the project's pending check in the cache), so that the
    answers that arrive meanwhile go into that job even if no more arrive."""
    if rest_until is None:
        return False
    wait = (rest_until - timezone.now()).total_seconds()
    if wait <= 0:
        return False
    if cache.add(key, 1, timeout=math.ceil(wait)) and not enqueue_later_on_commit(
        task, *args, seconds=math.ceil(wait) + 0.5
    ):
        cache.delete(key)  # nothing runs later here (a command, the tests): the next answers check again
    return True
