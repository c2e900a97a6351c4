from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from active_learning.audit import audit_stratum
from active_learning.choices import ModelStatus, Strategy
from active_learning.models import LearnerModel, ScoreChunk
from active_learning.selectors import (
    gold_spans,
    gold_spans_usable,
    learning_curve,
    model_payload_load,
    truth_spans,
)
from active_learning.services import span_training
from active_learning.services.training import (
    features_missing,
    learner_settings_update,
    suggestions_clear,
)
from core.spans import span_make
from features.classifiers import hash_uniform
from features.models import FeatureBlock
from labeling.models import EvaluationLabel
from projects.choices import Split
from projects.models import Item, Project
from tests.active_learning.factories import new_annotation, new_gold_label, new_item, span_sentence

pytestmark = pytest.mark.django_db
Retrain = Callable[..., LearnerModel]


def _open(project: Project) -> list[Item]:
    return list(Item.objects.filter(project=project, remaining__gt=0).order_by("pk"))


def test_a_span_retrain_fits_the_tagger_on_usable_gold_spans_and_ranks_the_open_items(
    span_project: Callable[..., Project], retrain: Retrain
) -> None:
    # given 16 annotated sentences (4 in the test split), 24 open ones, and suggestions on
    project = span_project(items=40, gold=16, test_every=4)
    learner_settings_update(project=project, show_suggestions=True)

    # when
    model = retrain(project)

    # then the 12 train sentences trained, the 4 test ones scored, every open item was ranked
    assert (model.status, model.error) == (ModelStatus.SUCCEEDED, "")
    assert (model.n_labels, model.n_weak, model.pool_size, model.prioritized) == (12, 0, 24, 24)
    assert model.metrics == {"n_heldout": 4, "span_precision": 1.0, "span_recall": 1.0, "span_f1": 1.0,
                             "n_spans": 8}  # fmt: skip
    assert not FeatureBlock.objects.filter(project=project).exists()
    payload = model_payload_load(model.path)
    assert payload["kind"] == "spans"
    assert payload["tagger"].tags == ["O", "B-per", "I-per", "B-loc", "I-loc"]
    opened = _open(project)
    assert sorted(item.priority for item in opened) == [float(n) for n in range(1, 25)]
    # and each open item carries the tagger's spans (the sentences are easy: all of them right)
    for item in opened:
        assert item.suggested_spans == span_sentence(int(item.external_id[1:]))[1]
        assert (item.suggested_label, item.suggested_by) == ("", model.number)
        assert item.suggested_confidence is not None
        assert 0.0 < item.suggested_confidence <= 1.0


def test_the_adaptive_queue_puts_the_most_uncertain_items_first_with_an_audit_draw_among_them(
    span_project: Callable[..., Project], retrain: Retrain, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a span project on the adaptive strategy (the default), batches of 10, and an odd open sentence
    project = span_project(items=60, gold=16, test_every=4)
    odd = new_item(project=project, external_id="odd", text="zzz qqq xxx www vvv uuu ttt", split=Split.TRAIN)
    learner_settings_update(project=project, batch_size=10)
    monkeypatch.setattr(span_training, "SPAN_CHUNK_ITEMS", 20)  # three chunks

    # when
    model = retrain(project)

    # then
    assert model.strategy == Strategy.ADAPTIVE
    assert len(model.chunks) == 3
    assert ScoreChunk.objects.filter(model=model).count() == 3
    front = list(Item.objects.filter(project=project, remaining__gt=0).order_by("-priority", "pk")[:10])
    stratum = audit_stratum(np.asarray([item.pk for item in front], dtype=np.int64), project.pk)
    assert 1 <= int(stratum.sum()) <= 2  # the audit share, at least one item
    if not audit_stratum(np.asarray([odd.pk], dtype=np.int64), project.pk)[0]:
        assert front[0].pk == odd.pk  # the sentence the tagger knows nothing of comes first


def test_the_random_strategy_orders_a_span_project_by_a_seeded_draw(
    span_project: Callable[..., Project], retrain: Retrain
) -> None:
    # given 8 gold sentences (too few to hold any out) and 22 open ones
    project = span_project(items=30, gold=8, test_every=0)
    learner_settings_update(project=project, strategy=Strategy.RANDOM)

    # when
    model = retrain(project)

    # then
    assert (model.prioritized, model.n_labels, model.metrics) == (22, 8, {})
    queue = list(Item.objects.filter(project=project, remaining__gt=0).order_by("-priority", "pk"))
    ids = np.asarray(sorted(item.pk for item in queue), dtype=np.int64)
    draw = hash_uniform(ids, f"spans:{project.pk}:{model.number}")
    assert [item.pk for item in queue] == ids[np.argsort(-draw, kind="stable")].tolist()


def test_a_span_project_with_no_spans_yet_starts_cold_with_a_random_order_and_no_suggestions(
    span_project: Callable[..., Project], retrain: Retrain
) -> None:
    # given no answers at all
    project = span_project(items=12, gold=0)
    learner_settings_update(project=project, show_suggestions=True)

    # when
    model = retrain(project)

    # then
    assert (model.status, model.n_labels, model.prioritized, model.metrics) == (
        ModelStatus.SUCCEEDED,
        0,
        12,
        {},
    )
    assert model_payload_load(model.path)["tagger"] is None
    assert not Item.objects.filter(project=project, suggested_by__isnull=False).exists()
    assert features_missing(model=model) == []


def test_evaluation_spans_and_the_test_splits_gold_never_train(
    span_project: Callable[..., Project], retrain: Retrain
) -> None:
    # given 8 gold sentences (2 in the test split), evaluation-only spans on 5 open items, and a known answer
    # (GoldLabel) on a test-split item
    project = span_project(items=20, gold=8, test_every=4)
    for item in _open(project)[:5]:
        _, spans = span_sentence(int(item.external_id[1:]))
        EvaluationLabel.objects.create(project=project, item=item, labels=["per", "loc"], spans=spans)
    tested = new_item(project=project, external_id="t", text="Hana flew to Oslo .", split=Split.TEST)
    new_gold_label(item=tested, labels=["per"], spans=[span_make(tested.text, 0, 4, "per")])

    # when
    model = retrain(project)

    # then 6 trained; the test split's 3 items scored; the items with evaluation spans still in the queue
    assert (model.n_labels, model.metrics["n_heldout"]) == (6, 3)
    assert model.prioritized == 13  # 12 open items and the test item (a gold label leaves no slot taken)
    assert set(model_payload_load(model.path)["labeled_ids"].tolist()) == set(
        gold_spans_usable(project=project)
    )


def test_gold_spans_follow_agreeing_annotations_and_a_decided_answer_wins() -> None:
    # given three items: two agreeing annotations, two disagreeing ones, and a disagreement adjudicated
    from tests.active_learning.factories import new_project

    project = new_project(labels=["per", "loc"], kind="spans")
    text = "Alice flew to Paris ."
    per, loc = span_make(text, 0, 5, "per"), span_make(text, 14, 19, "loc")
    agreed, disputed, decided = (new_item(project=project, text=text, split=Split.TRAIN) for _ in range(3))
    new_annotation(item=agreed, labels=["per", "loc"], spans=[loc, per])
    new_annotation(item=agreed, labels=["per", "loc"], spans=[per, loc])
    for item in (disputed, decided):
        new_annotation(item=item, labels=["per"], spans=[per])
        new_annotation(item=item, labels=[], spans=[])
    new_gold_label(item=decided, labels=["loc"], spans=[loc])
    held = new_item(project=project, text=text, split=Split.TEST)
    new_annotation(item=held, labels=["per"], spans=[per])
    EvaluationLabel.objects.create(project=project, item=held, labels=["loc"], spans=[loc])

    # when
    found = gold_spans(project=project)

    # then
    assert found == {agreed.pk: [per, loc], decided.pk: [loc], held.pk: [per]}
    assert set(gold_spans_usable(project=project)) == {agreed.pk, decided.pk}
    assert truth_spans(project=project)[held.pk] == [loc]


def test_turning_suggestions_off_takes_the_suggested_spans_off_and_on_again_refreshes_them(
    span_project: Callable[..., Project],
    retrain: Retrain,
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    # given
    project = span_project(items=24, gold=12, test_every=4)
    learner_settings_update(project=project, show_suggestions=True)
    model = retrain(project)
    assert Item.objects.filter(project=project, suggested_by=model.number).count() == 12

    # when
    learner_settings_update(project=project, show_suggestions=False)

    # then
    assert not Item.objects.filter(project=project, suggested_by__isnull=False).exists()
    assert not Item.objects.filter(project=project).exclude(suggested_spans=[]).exists()
    assert suggestions_clear(project=project) == 0

    # when suggestions are turned back on
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[attr-defined]
        learner_settings_update(project=project, show_suggestions=True)

    # then
    assert Item.objects.filter(project=project, suggested_by=model.number).count() == 12


def test_the_learning_curve_of_a_span_project_reads_span_scores(
    span_project: Callable[..., Project], retrain: Retrain
) -> None:
    project = span_project(items=20, gold=12, test_every=4)
    model = retrain(project)

    curve = learning_curve(project=project)

    assert curve["metrics"] == ["span_f1", "span_precision", "span_recall"]
    assert [
        (point["model"], point["n_labels"], point["n_heldout"], point["span_f1"]) for point in curve["points"]
    ] == [(model.number, 9, 3, 1.0)]


def test_a_span_retrain_tags_a_fresh_draw_of_the_pool_not_every_open_item(
    span_project: Callable[..., Project], retrain: Retrain, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given 34 open sentences and a pool cap of 10
    monkeypatch.setattr(span_training, "SPAN_POOL_ITEMS", 10)
    project = span_project(items=40, gold=6, test_every=0)

    # when two retrains run
    first = retrain(project)
    first_front = {item.pk for item in _open(project) if item.priority > 0}
    second = retrain(project)
    second_front = {item.pk for item in _open(project) if item.priority > 0}

    # then each tagged about 10 of the 34 (a hash draw), and the two draws differ
    assert 4 <= first.pool_size <= 18
    assert 4 <= len(first_front) <= 18
    assert 4 <= len(second_front) <= 18
    assert first_front != second_front
    assert second.chunks[0][2] == pytest.approx(10 / 34)
