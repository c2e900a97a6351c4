"""The import writers keep the items' answer summaries on SQLite: the item writer (executemany) across
batches, updates and answers taken back, and the span writer (the COPY writer's run in
tests/integration/test_answer_summaries.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from imports.services import pipeline
from imports.services.writers import OrmBatchWriter, SqliteBatchWriter
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
from tests.labeling.answer_summaries import summaries_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("writer", [SqliteBatchWriter, OrmBatchWriter])
def test_the_item_writers_keep_the_summaries_of_the_items_whose_answers_they_write(
    writer: type[OrmBatchWriter], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the embedded database's writer (new items' summaries from the rows), or the ORM writer
    # (every summary recomputed from the answers)
    assert connection.vendor == "sqlite"
    monkeypatch.setattr(pipeline, "batch_writer_for_connection", writer)

    # when a file of several people's labels is imported, then updated by a second file
    project, between = items_imported_twice(tmp_path)

    # then each import left the summaries its answers call for
    assert between == FIRST_SUMMARIES
    assert summaries_of(project) == SECOND_SUMMARIES


def test_an_imported_answer_taken_back_takes_its_summary_with_it(tmp_path: Path) -> None:
    # when labeled items are imported, then one of them is moved to an evaluation-only split
    project, between = answers_taken_back(tmp_path)

    # then
    assert between == SPLIT_SUMMARIES
    assert summaries_of(project) == MOVED_SUMMARIES


def test_the_span_writer_keeps_the_summaries_comparing_spans(tmp_path: Path) -> None:
    # when span answers are imported, then one of them re-imported to agree with the other
    project, between = spans_imported_twice(tmp_path)

    # then
    assert between == SPAN_FIRST_SUMMARIES
    assert summaries_of(project) == SPAN_SECOND_SUMMARIES
