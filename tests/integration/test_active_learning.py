"""End to end: retrains are carried out by the real Celery worker process, one scoring chunk per feature block."""

from __future__ import annotations

import time
import uuid

import pytest
from django.utils import timezone

from active_learning.choices import ModelStatus
from active_learning.models import LearnerModel, ScoreChunk
from active_learning.services.training import learner_retrain, learner_settings_update, retrain_resting_until
from features.services.cache import feature_block_build, features_plan
from labeling.services.annotations import annotation_submit
from projects.choices import Role, Split
from projects.models import Item, Project
from tests.integration.conftest import CeleryWorker
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TIMEOUT_SECONDS = 60
SPAM = ["win a free prize now", "free cash offer click here", "claim your free reward today"]
HAM = ["see you at lunch tomorrow", "the meeting moved to monday", "thanks for the notes from class"]


def _project(items: int, gold: int) -> Project:
    project = ProjectFactory()
    for index in range(items):
        spam = index % 2 == 0
        text = f"{(SPAM if spam else HAM)[index % 3]} {index}"
        item = ItemFactory(project=project, text=text, split=Split.TEST if index % 5 == 0 else Split.TRAIN)
        if index < gold:
            AnnotationFactory(item=item, labels=["spam" if spam else "ham"])
            Item.objects.filter(pk=item.pk).update(remaining=0)
    return project


def _wait(model: LearnerModel, worker: CeleryWorker) -> LearnerModel:
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while not model.is_finished and time.monotonic() < deadline:
        time.sleep(0.2)
        model.refresh_from_db()
    assert model.status == ModelStatus.SUCCEEDED, model.error or worker.log_tail()
    return model


def test_the_worker_scores_every_feature_block_then_writes_priorities(
    celery_worker_process: CeleryWorker,
) -> None:
    # given 200 items, 60 of them gold-labeled, with their features cached in four blocks
    project = _project(items=200, gold=60)
    for plan in features_plan(project=project, kind="hashed_tfidf", block_size=50):
        feature_block_build(
            project=project, kind="hashed_tfidf", first_id=plan.first_id, last_id=plan.last_id
        )
    learner_settings_update(project=project, batch_size=10, features="hashed_tfidf")

    # when a retrain is started (handed to the worker on commit)
    model = _wait(learner_retrain(project=project), celery_worker_process)

    # then every block was scored as its own chunk and the open items carry the model's priorities (the
    # adaptive default ranks every open item but the audit stratum's, of which the batch takes its draw)
    assert ScoreChunk.objects.filter(model=model).count() == 4
    assert model.pool_size == 140
    assert model.metrics["n_heldout"] == 12
    assert model.metrics["accuracy"] == 1.0
    prioritized = Item.objects.filter(project=project, priority__gt=0)
    assert 120 <= prioritized.count() == model.prioritized <= 140
    assert not prioritized.filter(remaining=0).exists()
    assert sorted(prioritized.values_list("priority", flat=True)) == [
        float(n) for n in range(1, model.prioritized + 1)
    ]


def test_new_annotations_start_a_retrain_on_the_worker(celery_worker_process: CeleryWorker) -> None:
    # given a project that retrains after every 4 new annotations, with 20 gold labels already
    project = _project(items=60, gold=20)
    learner_settings_update(project=project, retrain_every=4)
    first = _wait(learner_retrain(project=project), celery_worker_process)
    analyst = UserFactory()
    MembershipFactory(project=project, user=analyst, role=Role.ANALYST)

    # when the analyst labels four more items
    batch = list(Item.objects.filter(project=project, remaining__gt=0).order_by("-priority", "pk")[:4])
    for item in batch:
        spam = any(word in item.text for word in ("free", "prize", "reward"))
        annotation_submit(project=project, user=analyst, item_id=item.pk, labels=["spam" if spam else "ham"],
                          client_uuid=uuid.uuid4())  # fmt: skip

    # then the fourth one enqueued the check, which started model 2 on the worker, trained on the new labels too
    # (once the first one's rest is over: on a cold machine its first feature build alone can take 30 s)
    resting = retrain_resting_until(first)
    rest_left = 0.0 if resting is None else max(0.0, (resting - timezone.now()).total_seconds())
    deadline = time.monotonic() + rest_left + 30
    while not LearnerModel.objects.filter(project=project, number=2).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    second = LearnerModel.objects.get(project=project, number=2)
    second = _wait(second, celery_worker_process)
    assert second.trigger == "annotations"
    assert second.n_labels == first.n_labels + sum(item.split != Split.TEST for item in batch)
    # and not before the first one's rest ended (a quarter of the time at most: it starts by itself then,
    # the answers having fallen due during the rest)
    assert resting is None or second.created_at >= resting
    assert second.annotation_watermark > first.annotation_watermark
