"""The dashboard's reads: progress per day, label distribution, the run summary and the gathered page data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from labeling.models import Annotation, GoldLabel
from oversight.selectors.dashboard import dashboard_get, progress_over_time
from projects.choices import Role
from projects.selectors import project_get_for_user
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory
from weak_supervision.models import LabelModelRun

pytestmark = pytest.mark.django_db


def _at(annotation: Annotation, moment: datetime) -> None:
    Annotation.objects.filter(pk=annotation.pk).update(created_at=moment)


def test_progress_counts_annotations_per_day_and_items_from_their_first_annotation() -> None:
    # given: item a first annotated on Jan 1 (again on Jan 3), b on Jan 3 late in the UTC day, c never;
    # nothing at all on Jan 2, and another project's annotation on Jan 2
    project = ProjectFactory()
    a, b, _ = (ItemFactory(project=project) for _ in range(3))
    _at(AnnotationFactory(item=a), datetime(2024, 1, 1, 10, tzinfo=UTC))
    _at(AnnotationFactory(item=a), datetime(2024, 1, 3, 8, tzinfo=UTC))
    _at(AnnotationFactory(item=b), datetime(2024, 1, 3, 23, 30, tzinfo=UTC))
    _at(AnnotationFactory(item=ItemFactory()), datetime(2024, 1, 2, 12, tzinfo=UTC))

    # when
    rows = progress_over_time(project=project)

    # then
    assert rows == [
        {"date": "2024-01-01", "annotations": 1, "labeled_items": 1},
        {"date": "2024-01-02", "annotations": 0, "labeled_items": 1},
        {"date": "2024-01-03", "annotations": 2, "labeled_items": 2},
    ]


def test_an_item_counts_as_labeled_from_its_earliest_annotation_whatever_the_insert_order() -> None:
    # given: the annotation created first in the database is dated later
    project = ProjectFactory()
    item = ItemFactory(project=project)
    _at(AnnotationFactory(item=item), datetime(2024, 3, 2, tzinfo=UTC))
    _at(AnnotationFactory(item=item), datetime(2024, 3, 1, tzinfo=UTC))

    # when
    rows = progress_over_time(project=project)

    # then
    assert rows == [
        {"date": "2024-03-01", "annotations": 1, "labeled_items": 1},
        {"date": "2024-03-02", "annotations": 1, "labeled_items": 1},
    ]


def test_progress_of_a_project_without_annotations_is_empty() -> None:
    # given
    project = ProjectFactory()
    ItemFactory(project=project)

    # when / then
    assert progress_over_time(project=project) == []


def test_progress_is_two_queries_however_many_annotations(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    # given
    project = ProjectFactory()
    for _ in range(20):
        AnnotationFactory(item=ItemFactory(project=project))

    # when / then
    with django_assert_num_queries(2):
        progress_over_time(project=project)


def test_dashboard_gathers_labels_agreement_annotators_flags_and_the_latest_run(member_factory) -> None:  # type: ignore[no-untyped-def]
    # given: two analysts on three gold checks; bo misses two of them (1 of 3 < 80 %, with 3 >= 3 checks)
    project = ProjectFactory(gold_min_checks=3)
    owner = member_factory(project, Role.OWNER, username="olga").user
    ann = member_factory(project, Role.ANALYST, username="ann").user
    bo = member_factory(project, Role.ANALYST, username="bo").user
    for index in range(3):
        item = ItemFactory(project=project)
        GoldLabel.objects.create(project=project, item=item, labels=["spam"], is_check=True)
        AnnotationFactory(item=item, annotator=ann, labels=["spam"])
        AnnotationFactory(item=item, annotator=bo, labels=["spam"] if index == 0 else ["ham"])
    LabelModelRun.objects.create(
        project=project, number=1, status="succeeded", item_count=3,
        metrics={"coverage": 0.5, "n_items": 3, "splits": {"all": {
            "n_items": 3, "n_gold": 3, "coverage": 0.5,
            "label_model": {"accuracy": 0.9, "macro_f1": 0.8, "f1": {}},
            "majority_vote": {"accuracy": 0.7, "macro_f1": 0.6, "f1": {}},
        }}},
        lf_analysis=[{"name": "has_link", "coverage": 0.5, "empirical_accuracy": 1.0}],
    )  # fmt: skip
    viewer = project_get_for_user(user=owner, slug=project.slug)

    # when
    data = dashboard_get(project=viewer.project, viewer=viewer)

    # then
    assert data["stats"]["annotations"] == 6
    assert data["labels"] == [
        {"key": "ham", "name": "Ham", "count": 2, "share": 2 / 6},
        {"key": "spam", "name": "Spam", "count": 4, "share": 4 / 6},
    ]
    assert len(data["progress"]) == 1
    assert data["agreement"]["n_items"] == 3
    assert [row["username"] for row in data["annotators"]] == ["ann", "bo"]
    assert [(row["username"], row["checks_n"], row["checks_correct"]) for row in data["below_threshold"]] == [
        ("bo", 3, 1)
    ]
    assert data["run"] == {
        "number": 1, "n_items": 3, "coverage": 0.5, "aggregator": "label model",
        "splits": [{"split": "all", "n_items": 3, "n_gold": 3, "coverage": 0.5,
                    "label_model": {"accuracy": 0.9, "macro_f1": 0.8},
                    "majority_vote": {"accuracy": 0.7, "macro_f1": 0.6}}],
        "lfs": [{"name": "has_link", "coverage": 0.5, "empirical_accuracy": 1.0}],
    }  # fmt: skip


def test_dashboard_without_runs_or_annotations(member_factory) -> None:  # type: ignore[no-untyped-def]
    # given: a failed run is no result to show
    project = ProjectFactory()
    owner = member_factory(project, Role.OWNER).user
    LabelModelRun.objects.create(project=project, number=1, status="failed")
    viewer = project_get_for_user(user=owner, slug=project.slug)

    # when
    data = dashboard_get(project=viewer.project, viewer=viewer)

    # then
    assert data["run"] is None
    assert data["progress"] == []
    assert data["annotators"] == []
    assert data["below_threshold"] == []
    assert data["labels"] == [
        {"key": "ham", "name": "Ham", "count": 0, "share": None},
        {"key": "spam", "name": "Spam", "count": 0, "share": None},
    ]
