from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict

import pytest
from django.core.exceptions import ValidationError

from active_learning.choices import Strategy
from active_learning.models import LearnerModel
from active_learning.selectors import Suggestion
from active_learning.services.hints import suggestion_show
from active_learning.services.training import learner_settings_update
from labeling.choices import EventType
from labeling.models import Annotation, InteractionEvent
from labeling.services.annotations import annotation_submit
from projects.models import Item, Project
from tests.active_learning.factories import corpus_text, new_item, new_user

pytestmark = pytest.mark.django_db
Retrain = Callable[..., LearnerModel]


def _trained(corpus_project: Callable[..., Project], retrain: Retrain, *, show: bool) -> Project:
    project = corpus_project(items=30, gold=20)
    learner_settings_update(project=project, show_suggestions=show)
    assert retrain(project).status == "succeeded"
    return project


def test_no_suggestion_is_shown_where_the_project_shows_none(
    corpus_project: Callable[..., Project], retrain: Retrain
) -> None:
    # given a trained model, suggestions off
    project = _trained(corpus_project, retrain, show=False)
    item = new_item(project=project, text=corpus_text("spam", 500))

    # when
    suggestion = suggestion_show(project=project, user=new_user(), item=item)

    # then
    assert suggestion is None
    assert not InteractionEvent.objects.exists()


def test_the_models_suggestion_is_shown_and_recorded(
    corpus_project: Callable[..., Project], retrain: Retrain
) -> None:
    # given
    project = _trained(corpus_project, retrain, show=True)
    item = new_item(project=project, text=corpus_text("spam", 500))
    analyst = new_user()

    # when
    suggestion = suggestion_show(project=project, user=analyst, item=item)

    # then
    assert suggestion is not None
    assert (suggestion.label, suggestion.name, suggestion.model) == ("spam", "Spam", 1)
    assert 0.5 < suggestion.confidence <= 1.0
    event = InteractionEvent.objects.get()
    assert (event.type, event.item, event.user, event.project) == (
        EventType.SUGGESTION_SHOWN,
        item,
        analyst,
        project,
    )
    assert event.payload == asdict(suggestion)


def test_the_suggestion_comes_from_the_latest_model(
    corpus_project: Callable[..., Project], retrain: Retrain
) -> None:
    project = _trained(corpus_project, retrain, show=True)
    retrain(project)
    item = new_item(project=project, text=corpus_text("ham", 501))

    suggestion = suggestion_show(project=project, user=new_user(), item=item)

    assert suggestion is not None
    assert (suggestion.label, suggestion.name, suggestion.model) == ("ham", "Ham", 2)


def test_no_suggestion_without_a_trained_model(
    corpus_project: Callable[..., Project], retrain: Retrain
) -> None:
    # given suggestions on, a pending retrain, and a succeeded one that had a single class to learn from
    project = corpus_project(items=20, gold=4, gold_classes=("spam",))
    learner_settings_update(project=project, show_suggestions=True, strategy=Strategy.MARGIN)
    item = Item.objects.filter(project=project, remaining=1).first()
    assert item is not None
    user = new_user()
    before = suggestion_show(project=project, user=user, item=item)

    # when
    assert retrain(project).status == "succeeded"
    after = suggestion_show(project=project, user=user, item=item)

    # then
    assert (before, after) == (None, None)
    assert not InteractionEvent.objects.exists()


def _open_item(project: Project) -> Item:
    item = Item.objects.filter(project=project, remaining=1).order_by("pk").first()
    assert item is not None
    return item


@pytest.mark.parametrize(
    ("suggested", "label", "event_type"),
    [("spam", "spam", EventType.SUGGESTION_ACCEPTED), ("spam", "ham", EventType.SUGGESTION_REJECTED)],
)
def test_a_submission_records_whether_the_suggestion_was_taken(
    corpus_project: Callable[..., Project], suggested: str, label: str, event_type: str
) -> None:
    # given
    project = corpus_project(items=6, gold=0)
    item = _open_item(project)
    analyst = new_user()

    # when
    annotation_submit(project=project, user=analyst, item_id=item.pk, labels=[label], client_uuid=uuid.uuid4(),
                      suggested_label=suggested)  # fmt: skip

    # then
    event = InteractionEvent.objects.get(type__startswith="suggestion")
    assert (event.type, event.item, event.user) == (event_type, item, analyst)
    assert event.payload == {"suggested": suggested, "labels": [label]}
    assert InteractionEvent.objects.filter(type=EventType.SUBMIT).count() == 1


def test_a_changed_answer_records_the_suggestion_too(corpus_project: Callable[..., Project]) -> None:
    # given an answer the analyst gave before
    project = corpus_project(items=6, gold=0)
    item = _open_item(project)
    analyst = new_user()
    annotation_submit(
        project=project, user=analyst, item_id=item.pk, labels=["ham"], client_uuid=uuid.uuid4()
    )

    # when
    annotation_submit(project=project, user=analyst, item_id=item.pk, labels=["spam"], client_uuid=uuid.uuid4(),
                      suggested_label="spam")  # fmt: skip

    # then
    assert list(InteractionEvent.objects.order_by("pk").values_list("type", flat=True)) == [
        EventType.SUBMIT, EventType.CHANGE, EventType.SUGGESTION_ACCEPTED,
    ]  # fmt: skip


def test_a_submission_without_a_suggestion_records_none(corpus_project: Callable[..., Project]) -> None:
    project = corpus_project(items=6, gold=0)
    item = _open_item(project)

    annotation_submit(
        project=project, user=new_user(), item_id=item.pk, labels=["ham"], client_uuid=uuid.uuid4()
    )

    assert list(InteractionEvent.objects.values_list("type", flat=True)) == [EventType.SUBMIT]


def test_an_unknown_suggested_label_is_refused_and_nothing_is_stored(
    corpus_project: Callable[..., Project],
) -> None:
    # given
    project = corpus_project(items=6, gold=0)
    item = _open_item(project)

    # when
    with pytest.raises(ValidationError) as error:
        annotation_submit(project=project, user=new_user(), item_id=item.pk, labels=["ham"],
                          client_uuid=uuid.uuid4(), suggested_label="eggs")  # fmt: skip

    # then
    assert (error.value.code, error.value.messages) == (
        "suggested_label",
        ["suggested_label 'eggs' is not a label of this project."],
    )
    assert not Annotation.objects.exists()
    assert not InteractionEvent.objects.exists()
    item.refresh_from_db()
    assert item.remaining == 1


def test_suggestion_dataclass_is_what_the_event_stores() -> None:
    suggestion = Suggestion(label="spam", name="Spam", confidence=0.75, model=3)

    assert asdict(suggestion) == {"label": "spam", "name": "Spam", "confidence": 0.75, "model": 3}


def test_a_model_whose_file_is_missing_gives_no_suggestion_instead_of_an_error(
    corpus_project: Callable[..., Project], retrain: Retrain
) -> None:
    # given a trained model whose file was removed from storage
    from django.core.files.storage import default_storage

    project = _trained(corpus_project, retrain, show=True)
    model = LearnerModel.objects.filter(project=project).latest("number")
    default_storage.delete(model.path)
    item = new_item(project=project, text=corpus_text("spam", 500))

    # when
    suggestion = suggestion_show(project=project, user=new_user(), item=item)

    # then
    assert suggestion is None
