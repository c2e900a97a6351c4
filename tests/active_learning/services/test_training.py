from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from modAL.uncertainty import classifier_margin

from active_learning import tasks
from active_learning.audit import AUDIT_SHARE, AUDIT_STRATUM, GUARD_Z, audit_draw, audit_stratum
from active_learning.choices import ModelStatus, Strategy, Trigger
from active_learning.models import LearnerModel, LearnerSettings, ScoreChunk
from active_learning.selectors import learning_curve
from active_learning.services import training
from active_learning.services.training import (
    feature_range_build,
    features_missing,
    learner_model_fail,
    learner_model_finish,
    learner_model_run_inline,
    learner_model_train,
    learner_retrain,
    learner_retrain_if_due,
    learner_settings_get,
    learner_settings_update,
    model_payload_load,
    priorities_write,
    score_chunk_compute,
)
from active_learning.strategies import DIVERSE_CANDIDATES_PER_ITEM
from core import jobs
from features import vectors as features
from features.choices import HYBRID_CONTEXT, FeatureKind
from features.classifiers import hash_uniform
from features.encoders import ERROR_ENCODER_MISSING
from features.models import FeatureBlock
from features.services.cache import features_get, features_plan
from labeling.models import Annotation
from labeling.services.annotations import annotation_submit
from projects.models import Item, Project
from tests.active_learning.factories import (
    VOCABULARIES,
    corpus_text,
    new_annotation,
    new_gold_label,
    new_item,
    new_project,
    new_user,
    relation_project_build,
)
from tests.weak_supervision.factories import keyword_lf
from weak_supervision.choices import RunStatus
from weak_supervision.models import LabelModelRun
from weak_supervision.selectors import run_probabilities_get
from weak_supervision.services.runs import run_start

pytestmark = pytest.mark.django_db
Retrain = Callable[..., LearnerModel]


def _priorities(project: Project, *, open_only: bool = True) -> dict[int, float]:
    items = Item.objects.filter(project=project)
    if open_only:
        items = items.filter(remaining__gt=0)
    return dict(items.values_list("pk", "priority"))


def _by_priority(project: Project) -> list[int]:
    """Open items with a priority, first in the queue first."""
    return list(
        Item.objects.filter(project=project, remaining__gt=0, priority__gt=0)
        .order_by("-priority")
        .values_list("pk", flat=True)
    )


def _margin_scores(model: LearnerModel, ids: list[int]) -> dict[int, float]:
    """Each item's 1 - margin under the stored model, computed from the cached features."""
    payload = model_payload_load(model.path)
    found, x = features_get(project=model.project, kind=model.features, item_ids=ids, idf=payload["idf"])
    scores = 1.0 - np.asarray(classifier_margin(payload["learner"].model, x))
    return dict(zip(found.tolist(), scores.tolist(), strict=True))


def test_a_retrain_trains_on_gold_labels_and_measures_on_the_test_split(
    corpus_project: Callable[..., Project], retrain: Retrain
) -> None:
    # given 60 items, 20 of them gold (4 in the test split)
    project = corpus_project(items=60, gold=20)
    learner_settings_update(project=project, batch_size=5)
    user = new_user()

    # when
    model = retrain(project, user=user)

    # then
    assert (model.status, model.error, model.number, model.trigger) == (
        ModelStatus.SUCCEEDED,
        "",
        1,
        "manual",
    )
    assert (model.created_by, model.strategy, model.features) == (user, "adaptive", "hybrid")
    assert model.labels == ["ham", "spam"]
    assert (model.n_labels, model.n_weak, model.weak_run) == (16, 0, None)
    assert model.metrics == {
        "n_heldout": 4, "accuracy": 1.0, "macro_f1": 1.0, "f1": {"ham": 1.0, "spam": 1.0},
        "brier": model.metrics["brier"],
    }  # fmt: skip
    assert 0 < model.metrics["brier"] < 0.5
    assert (model.pool_size, model.prioritized) == (40, 40)
    assert model.annotation_watermark == Annotation.objects.filter(project=project).order_by("-pk")[0].pk
    block = FeatureBlock.objects.get(project=project, kind=FeatureKind.HASHED_TFIDF)
    assert model.chunks == [block.pk]
    assert FeatureBlock.objects.filter(project=project, kind=FeatureKind.STATIC).count() == 1
    assert ScoreChunk.objects.filter(model=model).count() == 1
    assert model.finished_at is not None
    assert sorted(model.seconds) == ["finish", "score_chunks", "train"]


def test_a_retrain_ranks_every_open_item_by_margin(
    corpus_project: Callable[..., Project], retrain: Retrain
) -> None:
    # given
    project = corpus_project(items=60, gold=20)
    learner_settings_update(project=project, strategy=Strategy.MARGIN, batch_size=5)

    # when
    model = retrain(project)

    # then every open item has a distinct priority, closed (gold) items none
    open_priorities = _priorities(project)
    assert len(open_priorities) == 40
    assert sorted(open_priorities.values()) == [float(value) for value in range(1, 41)]
    closed = Item.objects.filter(project=project, remaining=0)
    assert set(closed.values_list("priority", flat=True)) == {0.0}
    # and the queue order is the order of the model's doubt
    scores = _margin_scores(model, list(open_priorities))
    in_queue_order = [scores[item] for item in _by_priority(project)]
    assert in_queue_order == sorted(in_queue_order, reverse=True)


def test_a_diverse_retrain_puts_its_batch_first_then_the_rest_by_score(
    corpus_project: Callable[..., Project], retrain: Retrain
) -> None:
    # given
    project = corpus_project(items=60, gold=20)
    learner_settings_update(project=project, strategy=Strategy.MARGIN_DIVERSE, batch_size=5)

    # when
    model = retrain(project)

    # then the batch (the five first) is drawn from the best candidates, and the rest follow by score
    queue = _by_priority(project)
    assert len(queue) == 40
    scores = _margin_scores(model, queue)
    best_first = sorted(scores, key=lambda item: -scores[item])
    batch, rest = queue[:5], queue[5:]
    assert set(batch) <= set(best_first[: 5 * DIVERSE_CANDIDATES_PER_ITEM])
    rest_scores = [scores[item] for item in rest]
    assert rest_scores == sorted(rest_scores, reverse=True)
    assert [Item.objects.get(pk=item).priority for item in batch] == [40.0, 39.0, 38.0, 37.0, 36.0]


def test_items_that_leave_the_window_go_back_to_priority_zero(
    corpus_project: Callable[..., Project], retrain: Retrain, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a window of 10 items (and a plan of as many), and every open item prioritized by an earlier ranking
    monkeypatch.setattr(training, "MIN_WINDOW", 5)
    monkeypatch.setattr(training, "window_planned", lambda **_: 10)
    project = corpus_project(items=60, gold=20)
    learner_settings_update(project=project, strategy=Strategy.MARGIN, batch_size=1)
    Item.objects.filter(project=project, remaining__gt=0).update(priority=99.0)

    # when
    model = retrain(project)

    # then
    values = sorted(_priorities(project).values())
    assert values == [0.0] * 30 + [float(value) for value in range(1, 11)]
    assert model.prioritized == 10


def test_a_model_ranks_beyond_the_window_as_far_as_its_plan_asks_across_chunks(
    corpus_project: Callable[..., Project], retrain: Retrain, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a window of 10 items, feature blocks of 20 items (three chunks), and a plan of 25 items
    monkeypatch.setattr(training, "MIN_WINDOW", 5)
    monkeypatch.setattr(training, "features_plan", partial(features_plan, block_size=20))
    monkeypatch.setattr(training, "window_planned", lambda **_: 25)
    project = corpus_project(items=60, gold=20)
    learner_settings_update(project=project, strategy=Strategy.MARGIN, batch_size=1)

    # when
    model = retrain(project)

    # then 25 open items have a priority, in the model's order of doubt over every chunk, and no open item
    # left out is more doubtful than one ranked
    assert model.status == ModelStatus.SUCCEEDED, model.error
    assert (len(model.chunks), model.window, model.prioritized) == (3, 25, 25)
    assert sorted(_priorities(project).values()) == [0.0] * 15 + [float(value) for value in range(1, 26)]
    queue = _by_priority(project)
    scores = _margin_scores(model, list(_priorities(project)))
    in_queue_order = [scores[item] for item in queue]
    assert in_queue_order == sorted(in_queue_order, reverse=True)
    assert min(in_queue_order) >= max(score for item, score in scores.items() if item not in queue)


def test_the_window_is_planned_for_the_answers_expected_until_the_next_model_lands(
    corpus_project: Callable[..., Project], retrain: Retrain, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    # given a window of 10 items; a model started 10 s ago, then 30 answers by analysts and 5 by an import;
    # and the next model, started 2 s ago, finishing now
    monkeypatch.setattr(training, "MIN_WINDOW", 5)
    settings.OVERSIGHT_AUTO_JOB_MAX_SHARE = 0.25
    project = corpus_project(items=60, gold=20)
    learner_settings_update(project=project, batch_size=1)
    first = retrain(project)
    open_items = list(Item.objects.filter(project=project, remaining__gt=0).order_by("pk"))
    for item in open_items[:30]:
        new_annotation(item=item, labels=["ham"])
    for item in open_items[30:35]:
        new_annotation(item=item, labels=["ham"], source="import", annotator=None, external_annotator="x")
    now = timezone.now()
    second = LearnerModel.objects.create(
        project=project, number=2, status=ModelStatus.SCORING, strategy=first.strategy, features=first.features,
        annotation_watermark=Annotation.objects.filter(project=project).order_by("-pk")[0].pk,
    )  # fmt: skip
    LearnerModel.objects.filter(pk=first.pk).update(created_at=now - timedelta(seconds=10))
    LearnerModel.objects.filter(pk=second.pk).update(created_at=now - timedelta(seconds=2))
    second.refresh_from_db()
    plan = partial(
        training.window_planned, model=second, settings=learner_settings_get(project=project), now=now
    )

    # when / then: 3 answers a second, for the rest (W * 3) and the next model's work (W) = 8 s, with the margin
    assert plan() == 36
    # each item taking two answers, half the items
    second.project.overlap = 2
    assert plan() == 18
    second.project.overlap = 1
    # the first model landed 20 s ago, longer than the rest and the work (8 s): 3 a second for 20 s
    LearnerModel.objects.filter(pk=first.pk).update(finished_at=now - timedelta(seconds=20))
    assert plan() == 90
    LearnerModel.objects.filter(pk=first.pk).update(finished_at=now - timedelta(seconds=1))
    assert plan() == 36
    # the same 30 answers given during its own 2 s (a load that just grew): 15 a second
    LearnerModel.objects.filter(pk=second.pk).update(annotation_watermark=first.annotation_watermark)
    second.refresh_from_db()
    assert plan(model=second) == 180
    LearnerModel.objects.filter(pk=second.pk).update(
        annotation_watermark=Annotation.objects.filter(project=project).order_by("-pk")[0].pk
    )
    second.refresh_from_db()
    # nobody answered since the first model started: no rate to plan by, so as far as one finish goes
    LearnerModel.objects.filter(pk=first.pk).update(annotation_watermark=second.annotation_watermark)
    assert plan(model=second) == training.MAX_WINDOW
    # a first model counts the answers of its own run: 30 in 2 s
    LearnerModel.objects.filter(pk=first.pk).delete()
    LearnerModel.objects.filter(pk=second.pk).update(annotation_watermark=first.annotation_watermark)
    second.refresh_from_db()
    assert plan(model=second) == 180
    # and no bigger than a finish may write
    monkeypatch.setattr(training, "MAX_WINDOW", 20)
    assert plan(model=second) == 20


def test_an_open_item_that_got_a_known_answer_leaves_the_ranking(
    corpus_project: Callable[..., Project], retrain: Retrain
) -> None:
    # given a ranked pool, then an owner gives the first item in the queue a known answer
    project = corpus_project(items=60, gold=20)
    retrain(project)
    first = _by_priority(project)[0]
    new_gold_label(item_id=first, project=project, labels=["spam"])

    # when
    retrain(project)

    # then it is trained on, and no longer in the queue's ranking
    assert Item.objects.get(pk=first).priority == 0.0
    assert len(_by_priority(project)) == 39
    assert LearnerModel.objects.get(project=project, number=2).n_labels == 17


def test_priorities_write_resets_open_items_left_out_and_leaves_closed_items_alone(project: Project) -> None:
    # given
    items = [new_item(project=project, priority=5.0) for _ in range(4)]
    closed = new_item(project=project, priority=7.0, remaining=0)

    # when
    written = priorities_write(project=project, ordered_ids=np.asarray([items[2].pk, items[0].pk]))

    # then
    assert written == 2
    priorities = dict(Item.objects.filter(project=project).values_list("pk", "priority"))
    assert priorities == {
        items[0].pk: 1.0,
        items[1].pk: 0.0,
        items[2].pk: 2.0,
        items[3].pk: 0.0,
        closed.pk: 7.0,
    }


def test_a_retrain_while_one_is_under_way_is_refused(corpus_project: Callable[..., Project]) -> None:
    # given a retrain waiting for its worker
    project = corpus_project(items=10, gold=4)
    first = learner_retrain(project=project)

    # when
    with pytest.raises(ValidationError) as error:
        learner_retrain(project=project)

    # then
    assert error.value.code == "busy"
    assert error.value.messages == ["A retrain of this project is already under way (model 1)."]
    assert list(LearnerModel.objects.filter(project=project)) == [first]
    assert first.status == ModelStatus.PENDING


@pytest.mark.parametrize("status", [ModelStatus.SUCCEEDED, ModelStatus.FAILED])
def test_a_retrain_after_a_finished_one_gets_the_next_number(
    corpus_project: Callable[..., Project], status: str
) -> None:
    project = corpus_project(items=10, gold=4)
    first = learner_retrain(project=project)
    LearnerModel.objects.filter(pk=first.pk).update(status=status)

    second = learner_retrain(project=project)

    assert (second.number, second.status) == (2, ModelStatus.PENDING)


def test_a_multi_label_project_is_refused(corpus_project: Callable[..., Project]) -> None:
    # given
    project = corpus_project(items=10, gold=0, multi_label=True)

    # when
    with pytest.raises(ValidationError) as error:
        learner_retrain(project=project)

    # then
    assert error.value.code == "multi_label"
    assert error.value.messages == [training.ERROR_MULTI_LABEL]
    assert not LearnerModel.objects.exists()
    assert not LearnerSettings.objects.exists()


def test_a_project_without_items_is_refused(project: Project) -> None:
    with pytest.raises(ValidationError) as error:
        learner_retrain(project=project)

    assert error.value.code == "no_items"
    assert not LearnerModel.objects.exists()


def _submit(project: Project, user: Any, item: Item, label: str) -> None:
    annotation_submit(project=project, user=user, item_id=item.pk, labels=[label], client_uuid=uuid.uuid4())


def test_annotations_start_a_retrain_every_retrain_every_annotations(
    corpus_project: Callable[..., Project], django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    # given a project without annotations that retrains every three, with no rest between retrains (the
    # next test holds the rest)
    settings.OVERSIGHT_AUTO_JOB_MAX_SHARE = 1.0
    project = corpus_project(items=12, gold=0)
    learner_settings_update(project=project, retrain_every=3)
    analyst = new_user()
    items = list(Item.objects.filter(project=project).order_by("pk"))

    # when seven analysts' answers arrive, each committed (and its retrain run) before the next
    counts = []
    for index, item in enumerate(items[:7]):
        with django_capture_on_commit_callbacks(execute=True):
            _submit(project, analyst, item, ("ham", "spam")[index % 2])
        counts.append(LearnerModel.objects.filter(project=project).count())

    # then the third and the sixth started one
    assert counts == [0, 0, 1, 1, 1, 2, 2]
    models = list(LearnerModel.objects.filter(project=project).order_by("number"))
    annotations = list(Annotation.objects.filter(project=project).order_by("pk").values_list("pk", flat=True))
    assert [(model.trigger, model.status) for model in models] == [
        (Trigger.ANNOTATIONS, ModelStatus.SUCCEEDED),
        (Trigger.ANNOTATIONS, ModelStatus.SUCCEEDED),
    ]
    assert [model.annotation_watermark for model in models] == [annotations[2], annotations[5]]


def test_annotations_start_no_second_retrain_while_one_is_under_way(
    corpus_project: Callable[..., Project], django_capture_on_commit_callbacks: Any
) -> None:
    # given a project that retrains every two annotations, whose workers have not started yet
    project = corpus_project(items=12, gold=0)
    learner_settings_update(project=project, retrain_every=2)
    analyst = new_user()

    # when six answers arrive, and then the checks they enqueued run
    with django_capture_on_commit_callbacks() as enqueued:
        for index, item in enumerate(Item.objects.filter(project=project).order_by("pk")[:6]):
            _submit(project, analyst, item, ("ham", "spam")[index % 2])
    models_before_checks = LearnerModel.objects.filter(project=project).count()
    for check in enqueued:
        check()

    # then the answers ran no retrain themselves: every second one enqueued a check; the first check
    # started one retrain and the others found it under way
    assert models_before_checks == 0
    assert len(enqueued) == 3
    assert list(LearnerModel.objects.filter(project=project).values_list("number", "status")) == [
        (1, ModelStatus.PENDING)
    ]
    assert learner_retrain_if_due(project=project) is None


@pytest.mark.parametrize("values", [None, {"enabled": False, "retrain_every": 1}])
def test_annotations_start_no_retrain_where_retraining_is_off(
    corpus_project: Callable[..., Project], values: dict[str, Any] | None
) -> None:
    # given a project that never saved its settings, or turned retraining off
    project = corpus_project(items=6, gold=3)
    if values is not None:
        learner_settings_update(project=project, **values)

    # when
    _submit(project, new_user(), Item.objects.filter(project=project, remaining=1).order_by("pk")[0], "ham")

    # then
    assert learner_retrain_if_due(project=project) is None
    assert not LearnerModel.objects.exists()


def test_a_multi_label_project_never_retrains_on_annotations(corpus_project: Callable[..., Project]) -> None:
    project = corpus_project(items=6, gold=3, multi_label=True)
    LearnerSettings.objects.create(project=project, retrain_every=1)

    assert learner_retrain_if_due(project=project) is None
    assert not LearnerModel.objects.exists()


def test_a_cold_start_ranks_the_pool_by_diverse_sampling(
    corpus_project: Callable[..., Project], retrain: Retrain
) -> None:
    # given gold labels of one class only (two of them in the test split)
    project = corpus_project(items=40, gold=6, gold_classes=("spam",))
    learner_settings_update(project=project, batch_size=5)

    # when
    model = retrain(project)

    # then there is no classifier and no metrics, but the open items are ranked
    assert model.status == ModelStatus.SUCCEEDED, model.error
    assert (model.metrics, model.n_labels, model.pool_size, model.prioritized) == ({}, 4, 34, 34)
    assert model_payload_load(model.path)["learner"] is None
    assert sorted(_priorities(project).values()) == [float(value) for value in range(1, 35)]
    texts = dict(Item.objects.filter(project=project).values_list("pk", "text"))
    batch_words = {word for item in _by_priority(project)[:5] for word in texts[item].split()}
    assert batch_words & set(VOCABULARIES["ham"])
    assert batch_words & set(VOCABULARIES["spam"])


def test_a_random_cold_start_ranks_the_pool_by_a_seeded_draw(
    corpus_project: Callable[..., Project], retrain: Retrain
) -> None:
    project = corpus_project(items=20, gold=0)
    learner_settings_update(project=project, strategy=Strategy.RANDOM, batch_size=3)

    model = retrain(project)

    assert (model.status, model.metrics, model.n_labels, model.prioritized) == (
        ModelStatus.SUCCEEDED,
        {},
        0,
        20,
    )
    assert sorted(_priorities(project).values()) == [float(value) for value in range(1, 21)]


def _weak_run(project: Project, capture: Any) -> LabelModelRun:
    keyword_lf(project, "spam words", "spam", *VOCABULARIES["spam"])
    keyword_lf(project, "ham words", "ham", *VOCABULARIES["ham"])
    keyword_lf(project, "money", "spam", "cash", "prize")
    with capture(execute=True):
        run = run_start(project=project, user=None)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    return run


def test_a_retrain_with_weak_labels_trains_on_the_label_models_confident_answers(
    corpus_project: Callable[..., Project], retrain: Retrain, django_capture_on_commit_callbacks: Any
) -> None:
    # given 10 gold items (2 in the test split) and a finished label-model run over all 60
    project = corpus_project(items=60, gold=10)
    run = _weak_run(project, django_capture_on_commit_callbacks)
    learner_settings_update(project=project, use_weak_labels=True, weak_min_confidence=0.7)

    # when
    model = retrain(project)

    # then
    ids, probabilities, covered = run_probabilities_get(run=run)  # type: ignore[misc]
    gold = set(Annotation.objects.filter(project=project).values_list("item_id", flat=True))
    confident = covered & (probabilities.max(axis=1) >= 0.7) & ~np.isin(ids, list(gold))
    assert model.status == ModelStatus.SUCCEEDED, model.error
    assert model.n_weak == int(confident.sum())
    assert model.n_weak > 0
    assert (model.n_labels, model.weak_run) == (8, run.number)
    assert model.metrics["n_heldout"] == 2


def test_weak_labels_are_left_out_unless_chosen(
    corpus_project: Callable[..., Project], retrain: Retrain, django_capture_on_commit_callbacks: Any
) -> None:
    project = corpus_project(items=30, gold=10)
    _weak_run(project, django_capture_on_commit_callbacks)

    model = retrain(project)

    assert (model.status, model.n_labels, model.n_weak, model.weak_run) == (ModelStatus.SUCCEEDED, 8, 0, None)


def test_the_weak_strategy_ranks_by_model_margin_and_label_model_doubt(
    corpus_project: Callable[..., Project], retrain: Retrain, django_capture_on_commit_callbacks: Any
) -> None:
    project = corpus_project(items=30, gold=10)
    _weak_run(project, django_capture_on_commit_callbacks)
    learner_settings_update(project=project, strategy=Strategy.WEAK, batch_size=3)

    model = retrain(project)

    assert (model.status, model.strategy, model.prioritized) == (ModelStatus.SUCCEEDED, "weak", 20)


def _scoring_model(project: Project) -> LearnerModel:
    """A retrain taken step by step up to scoring, as the workers do."""
    model = learner_retrain(project=project)
    for kind, first_id, last_id in features_missing(model=model):
        feature_range_build(model=model, kind=kind, first_id=first_id, last_id=last_id)
    return learner_model_train(model=model)


def test_a_score_chunk_done_twice_is_recorded_once(corpus_project: Callable[..., Project]) -> None:
    # given
    project = corpus_project(items=30, gold=10)
    model = _scoring_model(project)
    assert (model.status, len(model.chunks)) == (ModelStatus.SCORING, 1)

    # when
    first = score_chunk_compute(model=model, index=0)
    again = score_chunk_compute(model=model, index=0)

    # then
    assert again.pk == first.pk
    assert (first.index, first.rows) == (0, 20)
    assert ScoreChunk.objects.filter(model=model).count() == 1
    assert learner_model_finish(model=model).status == ModelStatus.SUCCEEDED


def test_finishing_with_a_chunk_not_scored_fails_the_model(corpus_project: Callable[..., Project]) -> None:
    # given
    project = corpus_project(items=30, gold=10)
    model = _scoring_model(project)

    # when
    with pytest.raises(ValidationError) as error:
        learner_model_finish(model=model)

    # then
    assert error.value.code == "chunks"
    model.refresh_from_db()
    assert model.status == ModelStatus.FAILED
    assert "Chunks [0] of model 1 were not scored." in model.error
    assert _by_priority(project) == []


def test_a_failure_never_overwrites_a_succeeded_model(corpus_project: Callable[..., Project]) -> None:
    project = corpus_project(items=10, gold=4)
    model = learner_model_run_inline(model=learner_retrain(project=project))

    learner_model_fail(model_id=model.pk, error="late failure")

    model.refresh_from_db()
    assert (model.status, model.error) == (ModelStatus.SUCCEEDED, "")


def test_a_retrain_scores_one_chunk_per_feature_block(
    corpus_project: Callable[..., Project], monkeypatch: pytest.MonkeyPatch, retrain: Retrain
) -> None:
    # given blocks of ten items (the missing blocks are then built by parallel tasks)
    project = corpus_project(items=30, gold=10)
    monkeypatch.setattr(training, "features_plan", partial(features_plan, block_size=10))

    # when
    model = retrain(project)

    # then the first block holds only gold items: nothing of it is left to rank
    assert model.status == ModelStatus.SUCCEEDED, model.error
    kinds = FeatureBlock.objects.filter(project=project).values_list("kind", flat=True)
    assert sorted(kinds) == [FeatureKind.HASHED_TFIDF] * 3 + [FeatureKind.STATIC] * 3
    assert len(model.chunks) == 3
    assert sorted(ScoreChunk.objects.filter(model=model).values_list("index", "rows")) == [
        (0, 0),
        (1, 10),
        (2, 10),
    ]
    assert (model.pool_size, model.prioritized) == (20, 20)


def test_the_learning_curve_has_a_point_per_measured_model(
    corpus_project: Callable[..., Project], retrain: Retrain
) -> None:
    # given two trained models with held-out metrics, a failed one, and gold labels added in between
    project = corpus_project(items=60, gold=20)
    first = retrain(project)
    for item in Item.objects.filter(project=project, remaining__gt=0).order_by("pk")[:10]:
        label = "spam" if any(word in item.text for word in VOCABULARIES["spam"]) else "ham"
        new_annotation(item=item, labels=[label])
    failed = learner_retrain(project=project)
    learner_model_fail(model_id=failed.pk, error="boom")
    second = retrain(project)

    # when
    curve = learning_curve(project=project)

    # then
    assert curve["metrics"] == ["accuracy", "macro_f1", "brier"]
    assert [(point["model"], point["n_labels"], point["n_heldout"]) for point in curve["points"]] == [
        (1, 16, 4),
        (3, 26, 4),
    ]
    assert [point["accuracy"] for point in curve["points"]] == [
        first.metrics["accuracy"],
        second.metrics["accuracy"],
    ]
    assert curve["points"][1]["brier"] == second.metrics["brier"]


def test_the_learning_curve_leaves_out_models_without_held_out_items(
    corpus_project: Callable[..., Project], retrain: Retrain
) -> None:
    project = corpus_project(items=20, gold=8, test_every=0)

    model = retrain(project)

    assert (model.status, model.metrics) == (ModelStatus.SUCCEEDED, {})
    assert learning_curve(project=project)["points"] == []


def test_settings_are_created_with_the_defaults(project: Project) -> None:
    settings = learner_settings_get(project=project)

    assert (settings.enabled, settings.strategy, settings.features, settings.retrain_every) == (
        True, Strategy.ADAPTIVE, FeatureKind.HYBRID, 50,
    )  # fmt: skip
    assert (settings.batch_size, settings.use_weak_labels, settings.show_suggestions) == (50, False, False)
    assert learner_settings_get(project=project).pk == settings.pk


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"colour": "blue"}, "unknown_setting"),
        ({"project_id": 5}, "unknown_setting"),
        ({"retrain_every": 3, "strategy": "nope"}, "invalid_choice"),
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(
    project: Project, values: dict[str, Any], code: str
) -> None:
    # given
    learner_settings_get(project=project)

    # when
    with pytest.raises(ValidationError) as error:
        learner_settings_update(project=project, **values)

    # then
    codes = [e.code for e in error.value.error_list] if hasattr(error.value, "error_list") else []
    codes += [e.code for errors in getattr(error.value, "error_dict", {}).values() for e in errors]
    assert code in codes
    settings = LearnerSettings.objects.get(project=project)
    assert (settings.retrain_every, settings.strategy) == (50, Strategy.ADAPTIVE)


@pytest.mark.parametrize("strategy", Strategy.values)
def test_every_strategy_retrains_and_ranks_the_open_items(
    corpus_project: Callable[..., Project], retrain: Retrain, monkeypatch: pytest.MonkeyPatch, strategy: str
) -> None:
    # given blocks of ten items, the first of them all gold (a chunk with nothing to rank)
    project = corpus_project(items=30, gold=12)
    learner_settings_update(project=project, strategy=strategy, batch_size=4)
    monkeypatch.setattr(training, "features_plan", partial(features_plan, block_size=10))

    # when
    model = retrain(project)

    # then
    assert (model.status, model.error, model.strategy) == (ModelStatus.SUCCEEDED, "", strategy)
    assert (model.pool_size, model.prioritized, model.n_labels) == (18, 18, 9)
    assert sorted(_priorities(project).values()) == [float(value) for value in range(1, 19)]


def test_a_project_whose_items_are_all_labeled_ranks_nothing(
    corpus_project: Callable[..., Project], retrain: Retrain
) -> None:
    project = corpus_project(items=10, gold=10)

    model = retrain(project)

    assert (model.status, model.error, model.pool_size, model.prioritized) == (
        ModelStatus.SUCCEEDED,
        "",
        0,
        0,
    )
    assert model.metrics["n_heldout"] == 2


def test_without_splits_a_fixed_fifth_of_many_gold_items_is_held_out(
    corpus_project: Callable[..., Project], retrain: Retrain
) -> None:
    # given 60 gold items, none in a test split
    project = corpus_project(items=70, gold=60, test_every=0)

    # when
    model = retrain(project)

    # then the items held out are those whose hashed draw is under 0.2
    gold_ids = np.asarray(
        sorted(Annotation.objects.filter(project=project).values_list("item_id", flat=True)), dtype=np.int64
    )
    held = int((hash_uniform(gold_ids, f"holdout:{project.pk}") < 0.2).sum())
    assert 0 < held < 60
    assert (model.metrics["n_heldout"], model.n_labels) == (held, 60 - held)


def test_a_retrain_whose_features_cannot_be_built_fails_with_the_reason(
    corpus_project: Callable[..., Project],
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given sentence embeddings chosen, and an encoder that breaks once the worker builds them
    project = corpus_project(items=10, gold=4)
    learner_settings_update(project=project, features=FeatureKind.EMBEDDINGS)

    def broken(texts: Any) -> Any:
        raise RuntimeError("the encoder broke")

    monkeypatch.setattr(features, "embed", broken)

    # when (the eager task raises where a worker would log and retry)
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        model = learner_retrain(project=project)

    # then
    model.refresh_from_db()
    assert model.status == ModelStatus.FAILED
    assert model.error == "RuntimeError: the encoder broke"
    assert model.finished_at is not None
    assert not FeatureBlock.objects.exists()
    assert learner_retrain(project=project).number == 2


@pytest.mark.parametrize("kind", [FeatureKind.HYBRID, FeatureKind.STATIC, FeatureKind.EMBEDDINGS])
def test_features_whose_encoder_is_not_installed_are_refused_and_nothing_changes(
    project: Project, encoder_missing: None, kind: str
) -> None:
    # given TF-IDF features, which need no encoder
    learner_settings_update(project=project, features=FeatureKind.HASHED_TFIDF)

    # when
    with pytest.raises(ValidationError) as error:
        learner_settings_update(project=project, features=kind, batch_size=7)

    # then
    assert error.value.message_dict == {"features": [ERROR_ENCODER_MISSING]}
    assert [e.code for e in error.value.error_dict["features"]] == ["encoder_missing"]
    settings = LearnerSettings.objects.get(project=project)
    assert (settings.features, settings.batch_size) == (FeatureKind.HASHED_TFIDF, 50)


def test_without_the_encoder_other_settings_still_change(project: Project, encoder_missing: None) -> None:
    # given the default features (hybrid), whose encoder is missing on this machine
    learner_settings_get(project=project)

    # when
    settings = learner_settings_update(project=project, batch_size=7, features=FeatureKind.HYBRID)

    # then
    assert (settings.features, settings.batch_size) == (FeatureKind.HYBRID, 7)


def test_a_retrain_of_features_whose_encoder_is_not_installed_is_refused(
    corpus_project: Callable[..., Project], encoder_missing: None
) -> None:
    # given the default (hybrid) features
    project = corpus_project(items=10, gold=4)

    # when
    with pytest.raises(ValidationError) as error:
        learner_retrain(project=project)

    # then
    assert (error.value.code, error.value.messages) == ("encoder_missing", [ERROR_ENCODER_MISSING])
    assert not LearnerModel.objects.exists()


def _open_draws(project: Project) -> list[int]:
    """The project's open items of the audit stratum, in the order of their draw."""
    ids = np.asarray(sorted(_priorities(project)), dtype=np.int64)
    draw = audit_draw(ids, project.pk)
    stratum = draw < AUDIT_STRATUM
    return ids[stratum][np.argsort(draw[stratum])].tolist()


def test_an_adaptive_batch_holds_the_next_audit_draws_among_the_chosen_items(
    corpus_project: Callable[..., Project], retrain: Retrain
) -> None:
    # given
    project = corpus_project(items=200, gold=20)
    learner_settings_update(project=project, batch_size=20)

    # when
    model = retrain(project)

    # then the batch's 7th and 14th items are the first two audit draws, the others are chosen outside the
    # stratum
    assert (model.status, model.strategy) == (ModelStatus.SUCCEEDED, Strategy.ADAPTIVE)
    draws = _open_draws(project)
    batch = _by_priority(project)[:20]
    assert [batch[6], batch[13]] == draws[:2]
    assert not set(np.delete(batch, [6, 13]).tolist()) & set(draws)
    # and the audit draw says nothing yet: too few labeled items of the stratum
    assert model.evidence["exploit_share"] == 1.0 - AUDIT_SHARE
    assert model.evidence["z"] is None
    assert model.evidence["n_audit"] + model.evidence["n_chosen"] == 16


def test_when_chosen_items_teach_less_than_random_ones_the_batch_is_drawn_at_random(
    retrain: Retrain,
) -> None:
    # given gold answers that are right in the audit stratum and wrong outside it, and 200 open items
    project = new_project(labels=["ham", "spam"])
    items = [
        new_item(
            project=project, external_id=f"c{index:03d}", text=corpus_text(("ham", "spam")[index % 2], index)
        )
        for index in range(500)
    ]
    ids = np.asarray([item.pk for item in items], dtype=np.int64)
    stratum = audit_stratum(ids, project.pk)
    for position, item in enumerate(items[:300]):
        right = ("ham", "spam")[position % 2]
        new_annotation(item=item, labels=[right if stratum[position] else ("spam", "ham")[position % 2]])
    learner_settings_update(project=project, batch_size=5)

    # when
    model = retrain(project)

    # then
    assert model.status == ModelStatus.SUCCEEDED, model.error
    assert model.evidence["z"] < -GUARD_Z
    assert model.evidence["exploit_share"] == 0.0
    assert _by_priority(project)[:5] == _open_draws(project)[:5]


def test_a_feature_task_queued_before_kinds_were_sent_builds_the_models_own_kind(
    corpus_project: Callable[..., Project],
) -> None:
    # given a model of TF-IDF features whose range is still to build
    project = corpus_project(items=10, gold=4)
    learner_settings_update(project=project, features=FeatureKind.HASHED_TFIDF)
    model = learner_retrain(project=project)
    [(kind, first_id, last_id)] = features_missing(model=model)

    # when the task arrives as an older release sent it, with no kind
    tasks.feature_block_task(model.pk, first_id, last_id)

    # then
    assert kind == FeatureKind.HASHED_TFIDF
    block = FeatureBlock.objects.get(project=project)
    assert (block.kind, block.first_id, block.last_id) == (FeatureKind.HASHED_TFIDF, first_id, last_id)
    assert features_missing(model=model) == []


def test_a_retrain_reads_the_words_between_marked_spans_where_cross_validation_says_they_help(
    retrain: Retrain,
) -> None:
    # given relation items whose classes only the words between their two marked entities tell apart
    project = relation_project_build(items=120, gold=60)

    # when
    model = retrain(project)

    # then the retrain compared the text's features with the context's on its labels, and read the context
    assert model.status == ModelStatus.SUCCEEDED, model.error
    choice = model.metrics["feature_sets"]
    assert set(choice["scores"]) == {FeatureKind.HYBRID, HYBRID_CONTEXT}
    assert choice["scores"][HYBRID_CONTEXT] > choice["scores"][FeatureKind.HYBRID] + 0.2
    assert (model.features, choice["features"], choice["n_labels"]) == (HYBRID_CONTEXT, HYBRID_CONTEXT, 48)
    assert model.metrics["accuracy"] == 1.0
    # and the pool was scored, and suggestions can be made, on the same features
    assert ScoreChunk.objects.filter(model=model).exists()
    assert FeatureBlock.objects.filter(project=project, kind="context").exists()


def test_a_retrain_of_items_that_mark_nothing_compares_nothing(
    corpus_project: Callable[..., Project], retrain: Retrain
) -> None:
    # given
    project = corpus_project(items=60, gold=30)

    # when
    model = retrain(project)

    # then
    assert model.features == FeatureKind.HYBRID
    assert "feature_sets" not in model.metrics
    assert not FeatureBlock.objects.filter(project=project, kind="context").exists()


def test_answers_start_no_retrain_while_the_last_one_rests(
    corpus_project: Callable[..., Project], retrain: Retrain, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a project whose last retrain took 4 s and finished 1 s ago, with enough new answers since
    settings.OVERSIGHT_AUTO_JOB_MAX_SHARE = 0.25
    project = corpus_project(items=12, gold=0)
    learner_settings_update(project=project, retrain_every=2)
    last = retrain(project)
    assert last.status == ModelStatus.SUCCEEDED
    finished = timezone.now() - timedelta(seconds=1)
    LearnerModel.objects.filter(pk=last.pk).update(
        created_at=finished - timedelta(seconds=4), finished_at=finished
    )
    last.refresh_from_db()
    analyst = new_user()
    for index, item in enumerate(Item.objects.filter(project=project, remaining__gt=0).order_by("pk")[:3]):
        _submit(project, analyst, item, ("ham", "spam")[index % 2])

    later: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        jobs,
        "enqueue_later_on_commit",
        lambda task, *args, seconds: later.append((task, args, seconds)) or True,
    )

    # when / then it rests 3 x 4 s after it finished (a quarter of the time at most), checking again once
    # when the rest ends, then starts one
    assert training.retrain_resting_until(last) == finished + timedelta(seconds=12)
    assert learner_retrain_if_due(project=project) is None
    assert learner_retrain_if_due(project=project) is None
    assert [(task, args) for task, args, _ in later] == [(tasks.learner_retrain_if_due_task, (project.pk,))]
    assert 10.5 <= later[0][2] <= 12.5
    LearnerModel.objects.filter(pk=last.pk).update(
        created_at=finished - timedelta(seconds=16), finished_at=finished - timedelta(seconds=12)
    )
    started = learner_retrain_if_due(project=project)
    assert started is not None
    assert started.trigger == Trigger.ANNOTATIONS


@pytest.mark.parametrize(("share", "took", "rests"), [(1.0, 4.0, False), (0.5, 0.0, False), (0.5, 4.0, True)])
def test_no_rest_with_a_share_of_one_or_nothing_recorded(
    corpus_project: Callable[..., Project],
    retrain: Retrain,
    settings: Any,
    share: float,
    took: float,
    rests: bool,
) -> None:
    # given
    settings.OVERSIGHT_AUTO_JOB_MAX_SHARE = share
    project = corpus_project(items=12, gold=0)
    last = retrain(project)
    assert last.finished_at is not None
    LearnerModel.objects.filter(pk=last.pk).update(created_at=last.finished_at - timedelta(seconds=took))
    last.refresh_from_db()

    # when / then
    assert (training.retrain_resting_until(last) is not None) is rests
    assert training.retrain_resting_until(None) is None
