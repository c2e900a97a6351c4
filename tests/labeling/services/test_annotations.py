from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from labeling.models import AnnotationRevision
from labeling.services.annotations import ERROR_ONE_LABEL, annotation_update
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_an_edit_keeps_the_earlier_answer() -> None:
    # given
    annotation = AnnotationFactory(labels=["spam"], lead_time_ms=900)
    editor = UserFactory()

    # when
    updated = annotation_update(annotation=annotation, labels=["ham"], edited_by=editor, lead_time_ms=400)

    # then
    assert (updated.labels, updated.lead_time_ms) == (["ham"], 400)
    revision = AnnotationRevision.objects.get(annotation=annotation)
    assert (revision.labels, revision.lead_time_ms, revision.edited_by) == (["spam"], 900, editor)


def test_saving_the_same_labels_writes_no_revision() -> None:
    annotation = AnnotationFactory(labels=["spam"])
    annotation_update(annotation=annotation, labels=["spam"], edited_by=None)
    assert AnnotationRevision.objects.count() == 0


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (["ham", "spam"], ERROR_ONE_LABEL),
        (["eggs"], "Unknown label(s): eggs. The project's labels are: ham, spam."),
        ([], "Choose at least one label."),
    ],
)
def test_bad_labels_are_refused_and_nothing_changes(labels: list[str], message: str) -> None:
    annotation = AnnotationFactory(labels=["spam"])
    with pytest.raises(ValidationError) as error:
        annotation_update(annotation=annotation, labels=labels, edited_by=None)
    assert error.value.messages == [message]
    annotation.refresh_from_db()
    assert annotation.labels == ["spam"]
    assert AnnotationRevision.objects.count() == 0


def test_multi_label_answers_are_stored_in_schema_order() -> None:
    project = ProjectFactory(multi_label=True, labels=["a", "b", "c"])
    annotation = AnnotationFactory(item__project=project, project=project, labels=["a"])
    assert annotation_update(annotation=annotation, labels=["c", "a", "c"], edited_by=None).labels == [
        "a",
        "c",
    ]


def test_an_edit_names_its_labels_in_any_case() -> None:
    # given
    annotation = AnnotationFactory(labels=["spam"])

    # when
    updated = annotation_update(annotation=annotation, labels=["HAM"], edited_by=None)

    # then
    assert updated.labels == ["ham"]
    annotation.refresh_from_db()
    assert annotation.labels == ["ham"]
