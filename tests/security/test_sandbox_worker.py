"""Red team on the real stack: hostile Python LFs in a run carried out by a real Celery worker process. The
run finishes with each hostile LF failed and the rules' votes in; the worker stays healthy (it answers,
its memory stays bounded, no sandbox outlives its call) and runs the next run."""

from __future__ import annotations

import json
import time

import psutil
import pytest

from config.celery import app as celery_app
from tests.integration.conftest import CeleryWorker
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory
from tests.security.test_sandbox_escapes import ISSUE_ESCAPE, OS, _forging, _lf
from tests.weak_supervision.factories import keyword_lf
from weak_supervision.choices import RunStatus
from weak_supervision.isolation import CHILD_INSIDE
from weak_supervision.models import LabelModelRun
from weak_supervision.services.functions import labeling_function_create
from weak_supervision.services.runs import run_start

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

RUN_TIMEOUT_SECONDS = 90
HOSTILE = {
    "escape": ISSUE_ESCAPE,
    "forger": _forging(json.dumps({"votes": [1000]})),
    "flood": _lf(OS, "for _ in range(1024):", "    for fd in range(1, 64):", "        try:",
                 "            os.write(fd, b'x' * 1048576)", "        except OSError:", "            pass"),
    "fork-bomb": _lf(OS, "while True:", "    os.fork()"),
    "loud": _lf("raise ValueError('x' * 20_000_000)"),
}  # fmt: skip


def _finished(run: LabelModelRun, worker: CeleryWorker) -> LabelModelRun:
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while not run.is_finished and time.monotonic() < deadline:
        time.sleep(0.3)
        run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error or worker.log_tail()
    return run


def test_hostile_lfs_fail_alone_and_the_worker_stays_healthy(celery_worker_process: CeleryWorker) -> None:
    # given two rules and the hostile LFs
    project = ProjectFactory()
    for index in range(60):
        spam = index % 3 == 0
        item = ItemFactory(
            project=project, text=f"free prize {index}" if spam else f"see you at home {index}"
        )
        AnnotationFactory(item=item, labels=["spam" if spam else "ham"])
    keyword_lf(project, "prize", "spam", "prize")
    keyword_lf(project, "home", "ham", "home")
    ids = {
        name: labeling_function_create(
            project=project, user=None, name=name, kind="python", label="", spec={"code": code}
        ).pk
        for name, code in HOSTILE.items()
    }
    worker = psutil.Process(celery_worker_process.process.pid)

    # when
    run = _finished(run_start(project=project, user=None, chunk_size=30), celery_worker_process)

    # then each hostile LF failed on its own, with a short reason; the rules voted
    errors = run.metrics["lf_errors"]
    assert set(errors) == {str(pk) for pk in ids.values()}
    assert all(len(error["error"]) < 4200 for error in errors.values())
    assert "invalid answer" in errors[str(ids["forger"])]["error"]
    assert "wrote more than" in errors[str(ids["flood"])]["error"]
    assert "'os.fork' is not allowed" in errors[str(ids["fork-bomb"])]["error"]
    coverage = {row["name"]: row["coverage"] for row in run.lf_analysis}
    assert coverage["prize"] > 0
    assert coverage["home"] > 0
    # and the worker is healthy: it answers, nothing it ran for the LFs is left, its memory stayed bounded
    assert celery_app.control.ping(destination=[celery_worker_process.nodename], timeout=5)
    processes = [worker, *worker.children(recursive=True)]
    left = [p for p in processes if any(CHILD_INSIDE in part for part in p.cmdline())]
    assert left == []
    assert sum(p.memory_info().rss for p in processes) < 1500 * 1024 * 1024
    # and it carries out the next run
    keyword_lf(project, "free", "spam", "free")
    assert (
        _finished(run_start(project=project, user=None), celery_worker_process).status == RunStatus.SUCCEEDED
    )
