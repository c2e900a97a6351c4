"""End to end: a run's chunks and its finish step are carried out by the real Celery worker process."""

from __future__ import annotations

import time

import pytest

from labeling.choices import Split
from tests.integration.conftest import CeleryWorker
from tests.labeling.factories import AnnotationFactory, ItemFactory, ProjectFactory
from tests.weak_supervision.factories import keyword_lf
from weak_supervision.choices import RunStatus
from weak_supervision.models import LabelModelRun, RunChunk
from weak_supervision.selectors import weak_labels_get
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
