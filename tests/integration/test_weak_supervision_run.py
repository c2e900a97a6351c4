"""End to end: a run's chunks and its finish step are carried out by the real Celery worker process."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from django.db import connection

from projects.choices import Split
from tests.integration.conftest import CeleryWorker, worker_kill, worker_start
from tests.labeling.factories import AnnotationFactory
from tests.plugins.real_services import RealServices
from tests.projects.factories import ItemFactory, ProjectFactory
from tests.weak_supervision.factories import keyword_lf
from weak_supervision.choices import RunStatus
from weak_supervision.models import LabelModelRun, RunChunk
from weak_supervision.selectors import weak_labels_get
from weak_supervision.services.functions import labeling_function_create
from weak_supervision.services.runs import run_start

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

RUN_TIMEOUT_SECONDS = 60


def test_the_worker_runs_every_chunk_then_fits_the_model(celery_worker_process: CeleryWorker) -> None:
    # given 120 items and three rules
    project = ProjectFactory()
    for index in range(120):
        spam = index % 4 == 0
        item = ItemFactory(project=project, text="free prize inside" if spam else f"lunch at home {index}",
                           split=Split.TEST if index % 2 else Split.TRAIN)  # fmt: skip
        AnnotationFactory(item=item, labels=["spam" if spam else "ham"])
    keyword_lf(project, "free", "spam", "free")
    keyword_lf(project, "prize", "spam", "prize")
    keyword_lf(project, "home", "ham", "home", "lunch")

    sessions_before = _sessions()

    # when a run of 6 chunks is started (handed to the worker on commit)
    run = run_start(project=project, user=None, chunk_size=20)
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while not run.is_finished and time.monotonic() < deadline:
        time.sleep(0.2)
        run.refresh_from_db()

    # then
    assert run.status == RunStatus.SUCCEEDED, run.error or celery_worker_process.log_tail()
    assert RunChunk.objects.filter(run=run).count() == 6
    assert len(weak_labels_get(run=run)) == 120
    assert run.metrics["splits"]["test"]["label_model"]["accuracy"] == 1.0
    assert LabelModelRun.objects.get(pk=run.pk).started_at is not None
    # the worker kept its database connection across the run's 8 tasks instead of opening one per task
    assert _sessions() - sessions_before <= 2


def _sessions() -> int:
    """Database sessions opened so far (PostgreSQL counts each new connection)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        (count,) = cursor.fetchone()
    return int(count)


# About 0.1 s of CPU per item: a chunk of 30 items keeps its worker busy for ~3 s, within the sandbox's 5 s.
SLOW_LF = (
    "def label(item):\n    total = 0\n    for n in range(2_000_000):\n        total += n\n    return None\n"
)
CHUNK_START_TIMEOUT_SECONDS = 30


def test_a_chunk_whose_worker_is_killed_runs_again_on_another(
    celery_worker_process: CeleryWorker, real_services: RealServices, tmp_path: Path
) -> None:
    # given a second worker beside the session's, and a run whose chunks take a few seconds each
    victim = worker_start(
        real_services, nodename=f"victim@{socket.gethostname()}", log_path=tmp_path / "victim.log"
    )
    try:
        project = ProjectFactory()
        for index in range(90):
            ItemFactory(project=project, text=f"free prize {index}" if index % 2 else f"home {index}")
        keyword_lf(project, "free", "spam", "free")
        keyword_lf(project, "home", "ham", "home")
        labeling_function_create(project=project, user=None, name="slow", kind="python", label="",
                                 spec={"code": SLOW_LF})  # fmt: skip

        # when the victim is killed (SIGKILL) in the middle of a chunk
        run = run_start(project=project, user=None, chunk_size=30)
        deadline = time.monotonic() + CHUNK_START_TIMEOUT_SECONDS
        while "run_chunk_task started" not in victim.log_path.read_text(errors="replace"):
            if time.monotonic() > deadline:
                pytest.fail(f"the victim took no chunk:\n{victim.log_tail()}", pytrace=False)
            time.sleep(0.1)
        worker_kill(victim)

        # then its chunk is handed to the other worker after the visibility timeout, and the run completes
        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        while not run.is_finished and time.monotonic() < deadline:
            time.sleep(0.3)
            run.refresh_from_db()
        assert run.status == RunStatus.SUCCEEDED, run.error or celery_worker_process.log_tail()
        assert RunChunk.objects.filter(run=run).count() == 3
        assert len(weak_labels_get(run=run)) == 90
        assert "run_chunk_task" in celery_worker_process.log_path.read_text(errors="replace")
    finally:
        worker_kill(victim)
