"""Span answers: checked against the item's text and the entity types, stored with code-point offsets."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from labeling.choices import EventType
from labeling.models import Annotation, AnnotationRevision, InteractionEvent
from labeling.services.annotations import ERROR_SPANS_REQUIRED, annotation_submit, annotation_undo_last
from labeling.services.spans import ERROR_NOT_SPANS, ERROR_SPAN_OVERLAP, spans_validate
from projects.choices import ProjectKind
from projects.models import Label, Project
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

TEXT = "Hi 😀 Ada Lovelace\r\nlives in London ."


def _span_project(**fields: Any) -> Project:
    return ProjectFactory(kind=ProjectKind.SPANS, labels=["per", "loc"], **fields)


def _span(start: int, end: int, label: str, **extra: Any) -> dict[str, Any]:
    return {"start": start, "end": end, "label": label, **extra}


def test_spans_are_read_in_text_order_with_their_quotes_and_keys_in_any_spelling() -> None:
    project = _span_project()
    checked = spans_validate(project=project, text=TEXT, spans=[_span(28, 34, "LOC"), _span(5, 17, "Per")])
    assert checked == [
        {"start": 5, "end": 17, "label": "per", "text": "Ada Lovelace"},
        {"start": 28, "end": 34, "label": "loc", "text": "London"},
    ]


@pytest.mark.parametrize(
    ("spans", "message"),
    [
        ("PER", "Spans must be a list of objects with start, end and label."),
        ([[1, 2, "per"]], "Spans must be a list of objects with start, end and label."),
        ([_span("5", 17, "per")], "Span 1: start and end must be whole numbers and label a text."),
        ([_span(5, 17, "per"), _span(30, 99, "loc")], "Span 2: 30-99 is not inside the text (0-36, end after start)."),
        ([_span(7, 7, "per")], "Span 1: 7-7 is not inside the text (0-36, end after start)."),
        ([_span(-1, 2, "per")], "Span 1: -1-2 is not inside the text (0-36, end after start)."),
        ([_span(5, 17, "org")], "Span 1: 'org' is not an entity type of this project. The types are: per, loc."),
        ([_span(5, 8, "per", text="Bob")], "Span 1: the quoted text 'Bob' is not the text at 5-8 ('Ada')."),
        ([_span(5, 17, "per"), _span(9, 17, "loc")], ERROR_SPAN_OVERLAP.format(first=1, second=2)),
        ([_span(5, 8, "per"), _span(5, 8, "per")], "Spans 1 and 2 are the same span."),
    ],
)  # fmt: skip
def test_bad_spans_are_refused_with_the_span_named(spans: Any, message: str) -> None:
    project = _span_project()
    with pytest.raises(ValidationError) as raised:
        spans_validate(project=project, text=TEXT, spans=spans)
    assert raised.value.messages == [message]


def test_nested_spans_are_kept_where_the_project_allows_them() -> None:
    project = _span_project(allow_overlapping_spans=True)
    checked = spans_validate(project=project, text=TEXT, spans=[_span(9, 17, "per"), _span(5, 17, "per")])
    assert [(s["start"], s["end"]) for s in checked] == [(5, 17), (9, 17)]


def test_a_retired_type_takes_no_new_spans() -> None:
    project = _span_project()
    Label.objects.filter(project=project, key="loc").update(retired_at=timezone.now())
    project.save()  # a new updated_at: the label cache reads the schema again
    with pytest.raises(ValidationError, match="the entity type 'loc' is retired"):
        spans_validate(project=project, text=TEXT, spans=[_span(28, 34, "loc")])


def test_a_span_answer_is_stored_with_its_types_and_an_empty_one_means_no_entities() -> None:
    # given a span project with two items and an analyst
    project = _span_project()
    first, second = ItemFactory(project=project, text=TEXT), ItemFactory(project=project, text="nothing here")
    analyst = UserFactory()

    # when they answer both, the second with no spans
    annotation_submit(
        project=project, user=analyst, item_id=first.pk, labels=[], client_uuid=uuid.uuid4(),
        spans=[_span(28, 34, "loc", text="London"), _span(5, 17, "per")], input_method="hotkey",
    )  # fmt: skip
    annotation_submit(
        project=project, user=analyst, item_id=second.pk, labels=[], spans=[], client_uuid=uuid.uuid4()
    )

    # then
    stored = {a.item_id: a for a in Annotation.objects.all()}
    assert stored[first.pk].spans == [
        {"start": 5, "end": 17, "label": "per", "text": "Ada Lovelace"},
        {"start": 28, "end": 34, "label": "loc", "text": "London"},
    ]
    assert stored[first.pk].labels == ["per", "loc"]
    assert (stored[second.pk].spans, stored[second.pk].labels) == ([], [])
    submit = InteractionEvent.objects.filter(type=EventType.SUBMIT, item=first).get()
    assert submit.payload["spans"] == 2


def test_a_changed_span_answer_keeps_the_earlier_spans_and_undo_hands_them_back() -> None:
    project = _span_project()
    item = ItemFactory(project=project, text=TEXT)
    analyst = UserFactory()
    annotation_submit(project=project, user=analyst, item_id=item.pk, labels=[], spans=[_span(5, 17, "per")],
                      client_uuid=uuid.uuid4())  # fmt: skip

    # when they answer it again with another span
    result = annotation_submit(project=project, user=analyst, item_id=item.pk, labels=[],
                               spans=[_span(28, 34, "loc")], client_uuid=uuid.uuid4())  # fmt: skip

    # then the revision keeps the first answer, and undo returns the current spans
    assert result.changed is True
    revision = AnnotationRevision.objects.get()
    assert (revision.labels, [s["text"] for s in revision.spans]) == (["per"], ["Ada Lovelace"])
    current = annotation_undo_last(project=project, user=analyst)
    assert current.previous_spans == [{"start": 28, "end": 34, "label": "loc", "text": "London"}]
    assert InteractionEvent.objects.get(type=EventType.UNDO).payload["spans"] == current.previous_spans


def test_a_span_project_needs_spans_and_an_item_project_refuses_them() -> None:
    spans_project, items_project = _span_project(), ProjectFactory()
    span_item, item = ItemFactory(project=spans_project), ItemFactory(project=items_project)
    analyst = UserFactory()
    with pytest.raises(ValidationError) as raised:
        annotation_submit(project=spans_project, user=analyst, item_id=span_item.pk, labels=["per"],
                          client_uuid=uuid.uuid4())  # fmt: skip
    assert raised.value.messages == [ERROR_SPANS_REQUIRED]
    with pytest.raises(ValidationError) as raised:
        annotation_submit(project=items_project, user=analyst, item_id=item.pk, labels=["spam"],
                          spans=[_span(0, 4, "spam")], client_uuid=uuid.uuid4())  # fmt: skip
    assert raised.value.messages == [ERROR_NOT_SPANS]
    assert Annotation.objects.count() == 0


def test_whether_the_analyst_kept_the_models_spans_is_recorded() -> None:
    # given two items whose model suggested spans, shown to the analyst
    project = _span_project()
    suggested = [{"start": 5, "end": 17, "label": "per", "text": "Ada Lovelace"}]
    kept, changed = (
        ItemFactory(project=project, text=TEXT, suggested_spans=suggested, suggested_by=3) for _ in "ab"
    )
    analyst = UserFactory()

    # when one answer keeps them and the other changes their type
    annotation_submit(project=project, user=analyst, item_id=kept.pk, labels=[], spans=suggested,
                      spans_suggested=True, client_uuid=uuid.uuid4())  # fmt: skip
    annotation_submit(project=project, user=analyst, item_id=changed.pk, labels=[], spans_suggested=True,
                      spans=[{**suggested[0], "label": "loc"}], client_uuid=uuid.uuid4())  # fmt: skip

    # then
    accepted = InteractionEvent.objects.get(type=EventType.SUGGESTION_ACCEPTED)
    rejected = InteractionEvent.objects.get(type=EventType.SUGGESTION_REJECTED)
    assert (accepted.item_id, accepted.payload) == (
        kept.pk,
        {"suggested": 1, "kept": 1, "spans": 1, "model": 3},
    )
    assert (rejected.item_id, rejected.payload) == (
        changed.pk,
        {"suggested": 1, "kept": 0, "spans": 1, "model": 3},
    )
