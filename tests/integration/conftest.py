"""A real Celery worker process for the integration tests, on the session's throwaway PostgreSQL and Redis.

Tests that need the worker to see their data use `@pytest.mark.django_db(transaction=True)`: the worker has
its own database connection, so it only sees committed rows.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config import env
from config.celery import app as celery_app
from tests.plugins.real_services import RealServices

WORKER_START_TIMEOUT_SECONDS = 30
WORKER_STOP_TIMEOUT_SECONDS = 15
LOG_TAIL_LINES = 80


@dataclass
class CeleryWorker:
    process: subprocess.Popen[bytes]
    nodename: str
    log_path: Path

    def log_tail(self) -> str:
        lines = self.log_path.read_text(errors="replace").splitlines() if self.log_path.is_file() else []
        return "\n".join(lines[-LOG_TAIL_LINES:]) or "(the worker wrote nothing)"


# Seconds after which Redis hands a task whose worker died to another worker: short, so that the test of a
# killed worker does not wait the production default of 15 minutes.
TEST_VISIBILITY_TIMEOUT = "6"


def worker_start(real_services: RealServices, *, nodename: str, log_path: Path) -> CeleryWorker:
    """Starts a Celery worker process on the session's database, Redis and media folder; waits for it."""
    database = connection.settings_dict  # after django_db_setup, NAME is the test database's
    database_url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    worker_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url,
        "REDIS_URL": real_services.redis_url,
        "OVERSIGHT_VAR_DIR": str(env.VAR_DIR),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "OVERSIGHT_BROKER_VISIBILITY_TIMEOUT": TEST_VISIBILITY_TIMEOUT,
        "PYTHONUNBUFFERED": "1",
        # One thread per native pool, as the platform's fits ask for themselves (threadpoolctl): a label-error
        # scan on this solo worker has stalled with the default pools after the browser tests.
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO",
        f"--hostname={nodename}", "--without-mingle", "--without-gossip",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=worker_env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    worker = CeleryWorker(process=process, nodename=nodename, log_path=log_path)
    _wait_until_it_answers(worker)
    return worker


def worker_kill(worker: CeleryWorker) -> None:
    """SIGKILL: the worker dies mid-task without acknowledging or giving anything back."""
    if worker.process.poll() is None:
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait()


def _wait_until_it_answers(worker: CeleryWorker) -> None:
    deadline = time.monotonic() + WORKER_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            pytest.fail(
                f"the Celery worker exited with status {worker.process.returncode}:\n{worker.log_tail()}",
                pytrace=False,
            )
        if celery_app.control.ping(destination=[worker.nodename], timeout=0.5):
            return
    pytest.fail(
        f"the Celery worker did not answer a ping within {WORKER_START_TIMEOUT_SECONDS} s:\n{worker.log_tail()}",
        pytrace=False,
    )


def worker_stop(worker: CeleryWorker) -> None:
    if worker.process.poll() is not None:
        return
    worker.process.send_signal(signal.SIGTERM)  # warm shutdown: finish the current task, then exit
    try:
        worker.process.wait(timeout=WORKER_STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failing test that used the worker shows the worker's log beside its own output."""
    report = yield
    worker = getattr(item, "funcargs", {}).get("celery_worker_process")
    if report.failed and isinstance(worker, CeleryWorker):
        report.sections.append(("Celery worker log (last lines)", worker.log_tail()))
    return report


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, str], Path]:
    """Writes a file to import: write_file("items.csv", "id,text\\n1,hello\\n")."""

    def build(name: str, content: str) -> Path:
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        return path

    return build


WORKER_IDLE_TIMEOUT_SECONDS = 60


def worker_idle(worker: CeleryWorker, timeout: float = WORKER_IDLE_TIMEOUT_SECONDS) -> bool:
    """Waits until the worker answers that it runs nothing and holds nothing reserved or scheduled (a retry
    waiting for its countdown), and the queue is empty, twice in a row:
    tasks that follow a job (a run's outputs stored, a retrain check) must not hold locks while the next test
    truncates the tables. False when `timeout` passed first."""
    deadline = time.monotonic() + timeout
    idle_polls = 0
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            return True
        inspect = celery_app.control.inspect(destination=[worker.nodename], timeout=1.0)
        # A solo worker does not answer while it runs a task: no reply (None) means busy, not idle.
        active, reserved, scheduled = inspect.active(), inspect.reserved(), inspect.scheduled()
        replies = (active, reserved, scheduled)
        busy = any(reply is None or any(reply.values()) for reply in replies)
        with celery_app.connection_for_write() as conn:
            queued = int(conn.default_channel.client.llen(celery_app.conf.task_default_queue))
        idle_polls = 0 if busy or queued else idle_polls + 1
        if idle_polls >= 2:
            return True
        time.sleep(0.2)
    return False


@pytest.fixture(autouse=True)
def _worker_idle_after_the_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test that used the worker, and before its database is flushed (pytest-django's own autouse
    fixture set the database up first, so it is torn down last), wait for the worker to go idle."""
    yield
    if "celery_worker_process" in request.fixturenames:
        worker_idle(request.getfixturevalue("celery_worker_process"))
