"""The items' answer summaries on PostgreSQL: the submit's single statement, change and undo, the COPY writer
and the span writer, a label merge, the migration's fill, and the item browser's filters against the
aggregation of every answer they replace (the same scenarios run on SQLite in tests/labeling,
tests/imports and tests/oversight)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from imports.services.writers import PostgresBatchWriter, batch_writer_for_connection
from labeling.models import ItemAnswerSummary
from projects.choices import OnConflict, ProjectKind
from projects.services.label_schema import label_merge
from tests.imports.answer_summary_files import (
    FIRST_SUMMARIES,
    MOVED_SUMMARIES,
    SECOND_SUMMARIES,
    SPAN_FIRST_SUMMARIES,
    SPAN_SECOND_SUMMARIES,
    SPLIT_SUMMARIES,
    answers_taken_back,
    items_imported_twice,
    spans_imported_twice,
)
from tests.labeling.answer_summaries import (
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
from tests.oversight.item_filters_oracle import listed_before, listed_now, mixed_project, queries
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = pytest.mark.integration


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "steps", "expected"), [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS]
)
def test_the_summary_follows_every_answer_submitted_changed_and_taken_back(
    kind: str, steps: list[Step], expected: Summary
) -> None:
    # given an item of a project of this kind, on PostgreSQL (a new answer: the submit's single statement)
    assert connection.vendor == "postgresql"
    item = scenario_item(kind)

    # when analysts answer it, change their answers and take them back through the services
    play(item, steps)

    # then its summary says what its answers say
    assert summary_of(item) == expected
    assert summary_recomputed(item) == expected


@pytest.mark.django_db
def test_the_copy_writer_keeps_the_summaries_of_the_items_whose_answers_it_writes(tmp_path: Path) -> None:
    # given PostgreSQL's writer
    writer = batch_writer_for_connection(
        project=ProjectFactory(), on_conflict=OnConflict.SKIP, label_ids={}, import_job=None
    )
    assert isinstance(writer, PostgresBatchWriter)

    # when a file of several people's labels is imported, then updated by a second file
    project, between = items_imported_twice(tmp_path)

    # then each import left the summaries its answers call for
    assert between == FIRST_SUMMARIES
    assert summaries_of(project) == SECOND_SUMMARIES


@pytest.mark.django_db
def test_an_imported_answer_taken_back_takes_its_summary_with_it(tmp_path: Path) -> None:
    # when labeled items are imported, then one of them is moved to an evaluation-only split
    project, between = answers_taken_back(tmp_path)

    # then
    assert between == SPLIT_SUMMARIES
    assert summaries_of(project) == MOVED_SUMMARIES


@pytest.mark.django_db
def test_the_span_writer_keeps_the_summaries_comparing_spans(tmp_path: Path) -> None:
    # when span answers are imported, then one of them re-imported to agree with the other
    project, between = spans_imported_twice(tmp_path)

    # then
    assert between == SPAN_FIRST_SUMMARIES
    assert summaries_of(project) == SPAN_SECOND_SUMMARIES


@pytest.mark.django_db
def test_a_label_merge_makes_the_answers_it_joins_agree() -> None:
    # given an item answered "junk" and "spam", and another answered "junk" and "ham"
    project = ProjectFactory(labels=["ham", "spam", "junk"], overlap=3)
    for name, labels in (("joined", ["junk", "spam"]), ("apart", ["junk", "ham"])):
        item = ItemFactory(project=project, external_id=name)
        for label in labels:
            AnnotationFactory(item=item, project=project, labels=[label])

    # when "junk" is merged into "spam"
    label_merge(project=project, key="junk", into="spam", changed_by=None)

    # then
    assert summaries_of(project) == {"joined": (2, 1, ["spam"]), "apart": (2, 2, ["ham", "spam"])}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [ProjectKind.SINGLE, ProjectKind.SPANS])
def test_the_answer_filters_list_what_the_aggregation_of_every_answer_listed(kind: str) -> None:
    # given a project whose items got agreeing, disagreeing, changed and undone answers through the services
    access, _ = mixed_project(kind)

    # when each answer filter and sort lists the items
    now = {str(data): listed_now(access, data) for data in queries(kind)}

    # then in the same order and number as before the summaries
    assert now == {str(data): listed_before(access, data) for data in queries(kind)}
    assert any(ids for ids, _ in now.values())


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_summaries_of_the_answers_stored_before_it() -> None:
    # given the schema before the summaries, with answers in a label project and a span project
    executor = MigrationExecutor(connection)
    before, after = migration_targets(executor)
    executor.migrate(before)
    rows = answers_before_the_summaries(executor.loader.project_state(before).apps)

    # when
    executor = MigrationExecutor(connection)
    executor.migrate(after)

    # then
    assert {
        (row.item_id, row.project_id, row.answers, row.distinct_answers, tuple(row.labels))
        for row in ItemAnswerSummary.objects.all()
    } == rows
