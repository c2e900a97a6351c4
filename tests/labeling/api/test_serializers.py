"""The hot path's hand-built responses (queue_item_data, annotation_data) equal what the serializers that
describe them in the schema return, on label and span projects, with suggestions, undo and revisions."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.utils import timezone

from core.spans import token_offsets_of
from labeling.api.serializers import (
    AnnotationOutputSerializer,
    QueueItemOutputSerializer,
    annotation_data,
    item_data,
    queue_item_data,
)
from labeling.hooks import Suggestion
from labeling.models import Annotation
from labeling.services.annotations import annotation_submit, annotation_undo_last
from labeling.services.queue import QueueItem, queue_item_next
from projects.api.serializers import ItemOutputSerializer
from projects.choices import ProjectKind
from projects.models import Item
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def _both(current: QueueItem, **extra: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    fields = {"previous_labels": current.previous_labels, "previous_spans": current.previous_spans, **extra}
    built = queue_item_data(item=current.item, lease_expires_at=current.assignment.expires_at, **fields)
    described = dict(QueueItemOutputSerializer({**current.__dict__, **extra}).data)
    return built, described


def test_a_label_projects_next_with_a_suggestion_is_the_serializers() -> None:
    # given an item with metadata, a split, a fractional priority and a stored suggestion
    project = ProjectFactory(labels=["ham", "spam"])
    ItemFactory(
        project=project, text="win a prize", metadata={"author": "x", "n": 3}, split="train", priority=0.375,
        suggested_label="spam", suggested_confidence=0.8125, suggested_by=4,
    )  # fmt: skip
    user = UserFactory()
    current = queue_item_next(project=project, user=user, suggest=True)
    assert current is not None
    suggestion = Suggestion(label="spam", name="Spam", confidence=0.8125, model=4)

    # when
    built, described = _both(current, suggestion=suggestion, tokens=[], suggested_spans=[])
    bare, bare_described = _both(current, suggestion=None, tokens=[], suggested_spans=[])

    # then
    assert built == described
    assert built["suggestion"] == {"label": "spam", "name": "Spam", "confidence": 0.8125, "model": 4}
    assert bare == bare_described
    assert bare["suggestion"] is None


def test_a_span_projects_undone_item_with_tokens_and_suggested_spans_is_the_serializers() -> None:
    # given a span project whose analyst answered an item and took it back
    project = ProjectFactory(kind=ProjectKind.SPANS, labels=["per", "loc"])
    item = ItemFactory(
        project=project, text="Ada went to Rome", suggested_spans=[{"start": 0, "end": 3, "label": "per"}]
    )
    user = UserFactory()
    shown = queue_item_next(project=project, user=user)
    assert shown is not None
    annotation_submit(
        project=project, user=user, item_id=item.pk, labels=[], client_uuid=uuid.uuid4(), membership=None,
        spans=[{"start": 12, "end": 16, "label": "loc", "text": "Rome"}, {"start": 0, "end": 3, "label": "per"}],
    )  # fmt: skip
    current = annotation_undo_last(project=project, user=user)
    tokens = token_offsets_of(item.text, None)

    # when
    built, described = _both(current, suggestion=None, tokens=tokens, suggested_spans=item.suggested_spans)

    # then
    assert built == described
    assert len(built["previous_spans"]) == 2
    assert built["tokens"] == [[0, 3], [4, 8], [9, 11], [12, 16]]


def test_an_item_counted_by_the_database_is_the_serializers() -> None:
    # given an item read without the pick's count: both ask the database
    item = ItemFactory()
    AnnotationFactory(item=item)

    # when
    fresh = Item.objects.get(pk=item.pk)
    built = item_data(fresh)

    # then
    assert built == dict(ItemOutputSerializer(Item.objects.get(pk=item.pk)).data)
    assert built["annotation_count"] == 1


def test_new_edited_and_imported_annotations_are_the_serializers() -> None:
    # given a new answer, the same answer changed by its analyst, and an imported one with no annotator
    project = ProjectFactory(labels=["ham", "spam"])
    first, second = ItemFactory(project=project), ItemFactory(project=project)
    user = UserFactory()
    new = annotation_submit(
        project=project, user=user, item_id=first.pk, labels=["ham"], client_uuid=uuid.uuid4(),
        membership=None, lead_time_ms=1200,
    ).annotation  # fmt: skip
    annotation_submit(
        project=project, user=user, item_id=first.pk, labels=["spam"], client_uuid=uuid.uuid4(),
        membership=None, lead_time_ms=800,
    )  # fmt: skip
    imported = AnnotationFactory(
        item=second, annotator=None, external_annotator="crowd-7", created_at=timezone.now()
    )

    # when
    rows = [new, Annotation.objects.get(pk=new.pk), Annotation.objects.get(pk=imported.pk)]

    # then
    for row in rows:
        assert annotation_data(row) == dict(AnnotationOutputSerializer(row).data)
    assert len(annotation_data(rows[1])["revisions"]) == 1
    assert annotation_data(rows[2])["annotator"] is None
