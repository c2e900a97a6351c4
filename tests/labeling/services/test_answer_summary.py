"""The items' answer summaries on SQLite: kept by submit, change and undo, recomputed by
answer_summaries_refresh, and by a label merge (the same scenarios run on PostgreSQL in
tests/integration/test_answer_summaries.py)."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from labeling.models import Annotation, ItemAnswerSummary
from labeling.services.annotations import annotation_update
from labeling.services.answer_summary import answer_summaries_of, answer_summaries_refresh
from projects.choices import ProjectKind
from projects.models import Item
from projects.services.label_schema import label_merge
from tests.labeling.answer_summaries import (
    ADA,
    ADA_LOVELACE,
    SCENARIOS,
    Step,
    Summary,
    answers_before_the_summaries,
    migration_targets,
    play,
    scenario_item,
    summaries_of,
    summary_of,
    summary_recomputed,
)
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kind", "steps", "expected"), [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS]
)
def test_the_summary_follows_every_answer_submitted_changed_and_taken_back(
    kind: str, steps: list[Step], expected: Summary
) -> None:
    # given an item of a project of this kind
    item = scenario_item(kind)

    # when analysts answer it, change their answers and take them back through the services
    play(item, steps)

    # then its summary says what its answers say
    assert summary_of(item) == expected
    assert summary_recomputed(item) == expected


def test_an_edit_outside_the_submit_recomputes_the_summary() -> None:
    # given two answers that differ
    item = scenario_item(ProjectKind.SINGLE)
    AnnotationFactory(item=item, project=item.project, labels=["ham"])
    changed = AnnotationFactory(item=item, project=item.project, labels=["spam"])
    assert summary_of(item) == (2, 2, ["ham", "spam"])

    # when one is edited to agree
    annotation_update(annotation=changed, labels=["ham"], edited_by=UserFactory())

    # then
    assert summary_of(item) == (2, 1, ["ham"])


def test_a_span_edit_compares_the_spans_not_their_types() -> None:
    # given two span answers of the same type and place
    item = scenario_item(ProjectKind.SPANS)
    AnnotationFactory(item=item, project=item.project, labels=["per"], spans=[ADA])
    changed = AnnotationFactory(item=item, project=item.project, labels=["per"], spans=[ADA])

    # when one is edited to another stretch of the same type
    annotation_update(annotation=changed, labels=[], spans=[ADA_LOVELACE], edited_by=None)

    # then they disagree, with one type between them
    assert summary_of(item) == (2, 2, ["per"])


def test_a_refresh_recomputes_the_named_items_and_drops_the_summaries_of_items_without_answers() -> None:
    # given answers written behind the services' back (no summaries), and a summary whose answers are gone
    project = ProjectFactory(overlap=3)
    first, second, emptied, untouched = ItemFactory.create_batch(4, project=project)
    Annotation.objects.bulk_create(
        Annotation(project=project, item=item, labels=labels, client_uuid=uuid.uuid4())
        for item, labels in [(first, ["spam"]), (first, ["ham"]), (second, ["ham"]), (untouched, ["ham"])]
    )
    ItemAnswerSummary.objects.create(
        item=emptied, project=project, answers=1, distinct_answers=1, labels=["x"]
    )

    # when
    answer_summaries_refresh(project=project, item_ids=[first.pk, second.pk, emptied.pk])

    # then the named items' summaries follow their answers; the others are left alone
    assert summaries_of(project) == {
        first.external_id: (2, 2, ["ham", "spam"]),
        second.external_id: (1, 1, ["ham"]),
    }


def test_the_summaries_computed_from_rows_are_those_a_refresh_stores() -> None:
    # given multi-label answers: agreeing, in another order, disagreeing, empty, and an item answered once
    project = ProjectFactory(kind=ProjectKind.MULTI, multi_label=True, labels=["b", "a", "c"], overlap=3)
    items = ItemFactory.create_batch(4, project=project)
    answers = [(items[0], ["b", "a"]), (items[0], ["b", "a"]), (items[1], ["c"]), (items[1], ["b", "c"]),
               (items[1], ["c"]), (items[2], []), (items[2], ["a"]), (items[3], ["c", "a"])]  # fmt: skip
    Annotation.objects.bulk_create(
        Annotation(project=project, item=item, labels=labels, client_uuid=uuid.uuid4())
        for item, labels in answers
    )

    # when the same answers are summarised from the rows, and by a refresh from the database
    computed = list(answer_summaries_of([(item.pk, labels) for item, labels in answers]))
    answer_summaries_refresh(project=project, item_ids=[item.pk for item in items])

    # then
    assert {(s.item_id, s.answers, s.distinct_answers, tuple(s.labels)) for s in computed} == {
        (row.item_id, row.answers, row.distinct_answers, tuple(row.labels))
        for row in ItemAnswerSummary.objects.all()
    } == {
        (items[0].pk, 2, 1, ("a", "b")), (items[1].pk, 3, 2, ("b", "c")), (items[2].pk, 2, 2, ("a",)),
        (items[3].pk, 1, 1, ("a", "c")),
    }  # fmt: skip


def test_a_refresh_of_the_whole_project_leaves_other_projects_alone() -> None:
    # given answers without summaries in two projects
    project, other = ProjectFactory(), ProjectFactory()
    mine, theirs = ItemFactory(project=project), ItemFactory(project=other)
    Annotation.objects.bulk_create(
        Annotation(project=item.project, item=item, labels=["ham"], client_uuid=uuid.uuid4())
        for item in (mine, theirs)
    )

    # when
    answer_summaries_refresh(project=project, item_ids=None)

    # then
    assert (summary_of(mine), summary_of(theirs)) == ((1, 1, ["ham"]), None)


def test_a_label_merge_makes_the_answers_it_joins_agree() -> None:
    # given an item answered "junk" and "spam", and another answered "junk" and "ham"
    project = ProjectFactory(labels=["ham", "spam", "junk"], overlap=3)
    joined, apart = (
        ItemFactory(project=project, external_id="joined"),
        ItemFactory(project=project, external_id="apart"),
    )
    for item, labels in ((joined, ["junk", "spam"]), (apart, ["junk", "ham"])):
        for label in labels:
            AnnotationFactory(item=item, project=project, labels=[label])

    # when "junk" is merged into "spam"
    label_merge(project=project, key="junk", into="spam", changed_by=None)

    # then
    assert summaries_of(project) == {"joined": (2, 1, ["spam"]), "apart": (2, 2, ["ham", "spam"])}


def test_deleting_an_item_deletes_its_summary() -> None:
    # given
    annotation = AnnotationFactory()

    # when
    Item.objects.filter(pk=annotation.item_id).delete()

    # then
    assert ItemAnswerSummary.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_summaries_of_the_answers_stored_before_it() -> None:
    # given the schema before the summaries, with answers in a label project and a span project
    executor = MigrationExecutor(connection)
    before, after = migration_targets(executor)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    rows = answers_before_the_summaries(apps)

    # when
    executor = MigrationExecutor(connection)
    executor.migrate(after)

    # then
    assert {
        (row.item_id, row.project_id, row.answers, row.distinct_answers, tuple(row.labels))
        for row in ItemAnswerSummary.objects.all()
    } == rows
