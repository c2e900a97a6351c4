"""The queue under contention on real PostgreSQL: 50 analysts asking at the same instant never collide."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from active_learning.models import LearnerModel
from active_learning.services.training import learner_settings_update
from labeling.models import Annotation
from labeling.services.annotations import annotation_submit
from labeling.services.queue import queue_item_next
from projects.models import Project
from tests.integration.conftest import CeleryWorker
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ANALYSTS = 50
ROUNDS = 3


def _label_rounds(project: Project, user_id: int, barrier: threading.Barrier) -> list[int]:
    """One analyst: wait for everyone, then take an item, answer it, and go again."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(pk=user_id)
    seen = []
    try:
        for _ in range(ROUNDS):
            barrier.wait(timeout=30)
            current = queue_item_next(project=project, user=user)
            assert current is not None
            seen.append(current.item.pk)
            barrier.wait(timeout=30)
            annotation_submit(project=project, user=user, item_id=current.item.pk, labels=["spam"],
                              client_uuid=uuid.uuid4())  # fmt: skip
    finally:
        connections.close_all()
    return seen


@pytest.mark.parametrize("overlap", [1, 2])
def test_fifty_concurrent_analysts_never_exceed_the_overlap(
    overlap: int, celery_worker_process: CeleryWorker
) -> None:
    # given a project that retrains (on the worker, writing queue priorities) after every 20 answers
    assert connection.vendor == "postgresql"
    project = ProjectFactory(overlap=overlap)
    ItemFactory.create_batch(ANALYSTS * ROUNDS, project=project)
    learner_settings_update(project=project, retrain_every=20, batch_size=10)
    users = [UserFactory().pk for _ in range(ANALYSTS)]
    barrier = threading.Barrier(ANALYSTS)

    # when every analyst asks for an item at the same instant, three times over
    with ThreadPoolExecutor(max_workers=ANALYSTS) as pool:
        seen = list(pool.map(lambda user_id: _label_rounds(project, user_id, barrier), users))

    # then no item was handed out more than `overlap` times, and each answer was stored
    handed = Counter(item_id for items in seen for item_id in items)
    assert max(handed.values()) <= overlap
    assert sum(handed.values()) == ANALYSTS * ROUNDS
    per_item = Counter(Annotation.objects.filter(project=project).values_list("item_id", flat=True))
    assert max(per_item.values()) <= overlap
    assert sum(per_item.values()) == ANALYSTS * ROUNDS
    # and retrains ran meanwhile (the hand-outs above happened while they wrote priorities). Retraining is
    # turned off first: the answers enqueued retrain checks that may still be queued on the worker, and a
    # retrain one of them started after this test would hold locks while the next test's set-up truncates.
    learner_settings_update(project=project, enabled=False)
    models = LearnerModel.objects.filter(project=project)
    for _ in range(2):  # again after a pause: a check that read the settings just before may start one late
        deadline = time.monotonic() + 60
        while models.exclude(status__in=["succeeded", "failed"]).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)
    assert models.filter(status="succeeded").exists(), celery_worker_process.log_tail()
