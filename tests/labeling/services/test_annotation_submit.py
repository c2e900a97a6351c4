from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ValidationError

from labeling.choices import EventType
from labeling.models import Annotation, AnnotationRevision, Assignment, InteractionEvent, Rationale
from labeling.services.annotations import (
    ERROR_NOTHING_TO_UNDO,
    ERROR_UUID_TAKEN,
    RationaleSpec,
    annotation_submit,
    annotation_undo_last,
)
from labeling.services.queue import queue_item_next
from projects.models import Item
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_submission_stores_the_annotation_its_event_and_fills_a_slot() -> None:
    # given
    project = ProjectFactory()
    item = ItemFactory(project=project, text="Win a FREE prize now")
    analyst = UserFactory()
    queue_item_next(project=project, user=analyst)
    client_uuid = uuid.uuid4()

    # when
    result = annotation_submit(
        project=project, user=analyst, item_id=item.pk, labels=["spam"], client_uuid=client_uuid,
        lead_time_ms=1234, input_method="hotkey", rationales=[RationaleSpec(start=6, end=10, quote="FREE")],
    )  # fmt: skip

    # then
    assert result.created is True
    annotation = Annotation.objects.get()
    assert (annotation.labels, annotation.lead_time_ms, annotation.client_uuid) == (
        ["spam"],
        1234,
        client_uuid,
    )
    item.refresh_from_db()
    assert item.remaining == 0
    assert Assignment.objects.get(user=analyst).status == Assignment.Status.SUBMITTED
    rationale = Rationale.objects.get()
    assert (rationale.start, rationale.end, rationale.quote, rationale.label) == (6, 10, "FREE", "spam")
    submit = InteractionEvent.objects.get(type=EventType.SUBMIT)
    assert submit.payload == {
        "labels": ["spam"], "input_method": "hotkey", "dwell_ms": 1234, "client_uuid": str(client_uuid),
        "annotation_id": annotation.pk,
    }  # fmt: skip
    assert InteractionEvent.objects.filter(type=EventType.RATIONALE).count() == 1


def test_a_retry_with_the_same_uuid_is_stored_once() -> None:
    # given a submission that was stored
    project = ProjectFactory()
    item = ItemFactory(project=project)
    analyst = UserFactory()
    client_uuid = uuid.uuid4()
    first = annotation_submit(
        project=project, user=analyst, item_id=item.pk, labels=["spam"], client_uuid=client_uuid
    )

    # when the client sends it again (a double click, a retry after a timeout)
    again = annotation_submit(
        project=project, user=analyst, item_id=item.pk, labels=["spam"], client_uuid=client_uuid
    )

    # then
    assert (again.created, again.annotation.pk) == (False, first.annotation.pk)
    assert Annotation.objects.count() == 1
    assert InteractionEvent.objects.filter(type=EventType.SUBMIT).count() == 1
    item.refresh_from_db()
    assert item.remaining == 0


def test_a_uuid_of_someone_elses_submission_is_refused() -> None:
    project = ProjectFactory()
    item = ItemFactory(project=project)
    client_uuid = uuid.uuid4()
    annotation_submit(
        project=project, user=UserFactory(), item_id=item.pk, labels=["spam"], client_uuid=client_uuid
    )

    with pytest.raises(ValidationError, match=ERROR_UUID_TAKEN):
        annotation_submit(
            project=project, user=UserFactory(), item_id=item.pk, labels=["ham"], client_uuid=client_uuid
        )
    assert Annotation.objects.count() == 1


def test_answering_an_item_again_changes_the_answer_and_keeps_the_history() -> None:
    # given
    project = ProjectFactory()
    item = ItemFactory(project=project)
    analyst = UserFactory()
    annotation_submit(
        project=project, user=analyst, item_id=item.pk, labels=["spam"], client_uuid=uuid.uuid4()
    )

    # when
    result = annotation_submit(
        project=project, user=analyst, item_id=item.pk, labels=["ham"], client_uuid=uuid.uuid4()
    )

    # then
    assert (result.created, result.changed, result.annotation.labels) == (False, True, ["ham"])
    assert list(AnnotationRevision.objects.values_list("labels", flat=True)) == [["spam"]]
    change = InteractionEvent.objects.get(type=EventType.CHANGE)
    assert (change.payload["labels"], change.payload["previous"]) == (["ham"], ["spam"])
    item.refresh_from_db()
    assert item.remaining == 0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (RationaleSpec(start=5, end=99), "Rationale 1: the span 5-99 is outside the item's text."),
        (RationaleSpec(start=0, end=3, quote="Buy"), "Rationale 1: the quoted text does not match"),
        (
            RationaleSpec(start=0, end=3, label="ham"),
            "Rationale 1: 'ham' is not one of the submitted labels.",
        ),
    ],
)
def test_a_bad_rationale_refuses_the_whole_submission(spec: RationaleSpec, message: str) -> None:
    project = ProjectFactory()
    item = ItemFactory(project=project, text="Win cash")
    with pytest.raises(ValidationError, match=message):
        annotation_submit(project=project, user=UserFactory(), item_id=item.pk, labels=["spam"],
                          client_uuid=uuid.uuid4(), rationales=[spec])  # fmt: skip
    assert (Annotation.objects.count(), Rationale.objects.count(), InteractionEvent.objects.count()) == (
        0,
        0,
        0,
    )
    item.refresh_from_db()
    assert item.remaining == 1


def test_rationale_offsets_from_the_page_map_onto_text_with_crlf_and_emoji() -> None:
    # given: a browser shows "a\r\nb" as "a\nb"; offsets count code points, so the emoji is one
    project = ProjectFactory()
    item = ItemFactory(project=project, text="🙂 hi\r\nFREE money")
    shown = "🙂 hi\nFREE money"

    # when
    span = RationaleSpec(start=shown.index("FREE"), end=shown.index("FREE") + 4, quote="FREE")
    annotation_submit(project=project, user=UserFactory(), item_id=item.pk, labels=["spam"], client_uuid=uuid.uuid4(),
                      rationales=[span])  # fmt: skip

    # then
    rationale = Rationale.objects.get()
    assert item.text[rationale.start : rationale.end] == "FREE"
    assert (shown.index("FREE"), rationale.start, rationale.end) == (5, 6, 10)


def test_undo_takes_back_my_latest_answer_and_hands_the_item_back() -> None:
    # given two answers
    project = ProjectFactory()
    first, second = ItemFactory.create_batch(2, project=project)
    analyst = UserFactory()
    annotation_submit(
        project=project, user=analyst, item_id=first.pk, labels=["spam"], client_uuid=uuid.uuid4()
    )
    annotation_submit(project=project, user=analyst, item_id=second.pk, labels=["ham"], client_uuid=uuid.uuid4(),
                      lead_time_ms=700)  # fmt: skip

    # when
    current = annotation_undo_last(project=project, user=analyst, input_method="hotkey")

    # then
    assert (current.item.pk, current.previous_labels) == (second.pk, ["ham"])
    assert list(Annotation.objects.values_list("item_id", flat=True)) == [first.pk]
    assert Item.objects.get(pk=second.pk).remaining == 1
    undo = InteractionEvent.objects.get(type=EventType.UNDO)
    assert (undo.item_id, undo.payload["labels"], undo.payload["lead_time_ms"]) == (second.pk, ["ham"], 700)
    assert queue_item_next(project=project, user=analyst).item.pk == second.pk  # type: ignore[union-attr]


def test_undo_with_nothing_to_undo_is_refused() -> None:
    project = ProjectFactory()
    with pytest.raises(ValidationError, match=ERROR_NOTHING_TO_UNDO):
        annotation_undo_last(project=project, user=UserFactory())
    assert InteractionEvent.objects.count() == 0


def test_a_submission_names_labels_in_any_case_by_the_one_rule_for_keys() -> None:
    # given
    project = ProjectFactory(labels=["ham", "spam", "not_sure"], multi_label=True)
    item = ItemFactory(project=project, text="Win cash")

    # when the answer, its rationale's label and the suggestion shown are given in other spellings
    annotation_submit(
        project=project, user=UserFactory(), item_id=item.pk, labels=["SPAM", "Not Sure", "spam"],
        client_uuid=uuid.uuid4(), rationales=[RationaleSpec(start=0, end=3, label="Spam")], suggested_label="SPAM",
    )  # fmt: skip

    # then each names its label's key
    assert Annotation.objects.get().labels == ["spam", "not_sure"]
    assert Rationale.objects.get().label == "spam"
    suggestion = InteractionEvent.objects.get(type=EventType.SUGGESTION_REJECTED)
    assert suggestion.payload == {"suggested": "spam", "labels": ["spam", "not_sure"]}


def test_an_unknown_suggested_label_is_refused_and_nothing_is_stored() -> None:
    # given
    project = ProjectFactory()
    item = ItemFactory(project=project)

    # when
    with pytest.raises(ValidationError, match="suggested_label 'eggs' is not a label of this project."):
        annotation_submit(project=project, user=UserFactory(), item_id=item.pk, labels=["spam"],
                          client_uuid=uuid.uuid4(), suggested_label="eggs")  # fmt: skip

    # then
    assert (Annotation.objects.count(), InteractionEvent.objects.count()) == (0, 0)
