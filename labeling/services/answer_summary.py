"""The items' answer summaries (ItemAnswerSummary): recomputed from the answers by every writer of answers,
inside its transaction, in one or two statements whatever the number of items.

The writers call `answer_summaries_refresh` with the items whose answers they created, changed or deleted
(an import once per batch, an edit or an undo once per item, a label merge once per project). Two writers
compute by the same rule without reading the answers back: the submit of a new answer on PostgreSQL, in its
own single statement (`SUMMARY_UPSERT_CTE`, used by labeling.services.annotations), from the item's earlier
answers and the new one; and the import writers of PostgreSQL and SQLite, for the items a batch creates
with all their answers (`answer_summaries_of`, from the rows they write: cheaper than reading them back).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence
from typing import NamedTuple

from django.db import connection

from projects.models import Project

# Two answers are the same when their label lists are equal (keys in schema order); in a span project, when
# their span lists are (spans in text order). PostgreSQL compares jsonb values, SQLite the minified text. The
# label union is sorted by code point on both (COLLATE "C", SQLite's BINARY), whatever the database's locale.
_PG_REFRESH = """
WITH gone AS (
    DELETE FROM labeling_itemanswersummary s
    WHERE {summaries}
      AND NOT EXISTS (SELECT 1 FROM labeling_annotation a WHERE a.item_id = s.item_id)
)
INSERT INTO labeling_itemanswersummary (item_id, project_id, answers, distinct_answers, labels)
SELECT a.item_id, %(project)s, count(DISTINCT a.id), count(DISTINCT a.{answer}),
       coalesce(jsonb_agg(DISTINCT k.key COLLATE "C" ORDER BY k.key COLLATE "C")
                FILTER (WHERE k.key IS NOT NULL), '[]'::jsonb)
FROM labeling_annotation a LEFT JOIN LATERAL jsonb_array_elements_text(a.labels) AS k(key) ON true
WHERE {answers}
GROUP BY a.item_id
ON CONFLICT (item_id) DO UPDATE
    SET answers = excluded.answers, distinct_answers = excluded.distinct_answers, labels = excluded.labels
    WHERE (labeling_itemanswersummary.answers, labeling_itemanswersummary.distinct_answers,
           labeling_itemanswersummary.labels)
          IS DISTINCT FROM (excluded.answers, excluded.distinct_answers, excluded.labels)"""

_SQLITE_DELETE = """
DELETE FROM labeling_itemanswersummary
WHERE {summaries}
  AND NOT EXISTS (SELECT 1 FROM labeling_annotation a WHERE a.item_id = labeling_itemanswersummary.item_id)"""

_SQLITE_UPSERT = """
INSERT INTO labeling_itemanswersummary (item_id, project_id, answers, distinct_answers, labels)
SELECT a.item_id, %s, count(*), count(DISTINCT json(a.{answer})),
       (SELECT json_group_array(key) FROM (
            SELECT DISTINCT k.value AS key FROM labeling_annotation b, json_each(b.labels) AS k
            WHERE b.item_id = a.item_id ORDER BY 1))
FROM labeling_annotation a
WHERE {answers}
GROUP BY a.item_id
ON CONFLICT (item_id) DO UPDATE
    SET answers = excluded.answers, distinct_answers = excluded.distinct_answers, labels = excluded.labels"""

# The submit's part of its single statement (PostgreSQL): the item's summary from its earlier answers, read
# in the statement's snapshot, plus the new one, which sibling parts of the statement cannot see.
SUMMARY_UPSERT_CTE = """summary AS (
    INSERT INTO labeling_itemanswersummary (item_id, project_id, answers, distinct_answers, labels)
    SELECT %(item)s, %(project)s, count(*), count(DISTINCT given.answer),
           coalesce((SELECT jsonb_agg(DISTINCT k.key COLLATE "C" ORDER BY k.key COLLATE "C")
                     FROM (SELECT labels FROM labeling_annotation WHERE item_id = %(item)s
                           UNION ALL SELECT %(labels)s::jsonb) AS l,
                          jsonb_array_elements_text(l.labels) AS k(key)), '[]'::jsonb)
    FROM (SELECT {answer} AS answer FROM labeling_annotation WHERE item_id = %(item)s
          UNION ALL SELECT %({answer})s::jsonb) AS given
    ON CONFLICT (item_id) DO UPDATE
        SET answers = excluded.answers, distinct_answers = excluded.distinct_answers, labels = excluded.labels
)"""


class AnswerSummary(NamedTuple):
    """An item's summary as ItemAnswerSummary stores it (a tuple: an import makes one per new item)."""

    item_id: int
    answers: int
    distinct_answers: int
    labels: Sequence[str]


def answer_summaries_of(answers: Sequence[tuple[int, Sequence[str]]]) -> Iterator[AnswerSummary]:
    """The summaries of items from all their answers, each given as (item id, its label keys as stored), by
    the rule of answer_summaries_refresh, one at a time (an import formats each as it comes: a million kept
    tuples would cost the garbage collector more than making them). For answers that are label keys only: a
    span project's answers differ by their spans."""
    if len({item_id for item_id, _ in answers}) == len(answers):  # one answer each: most imports
        for item_id, labels in answers:
            yield AnswerSummary(item_id, 1, 1, labels if len(labels) < 2 else sorted(set(labels)))
        return
    given: dict[int, list[tuple[str, ...]]] = {}
    for item_id, labels in answers:
        given.setdefault(item_id, []).append(tuple(labels))
    for item_id, lists in given.items():
        yield AnswerSummary(
            item_id, len(lists), len(set(lists)), sorted({key for keys in lists for key in keys})
        )


def answer_field(project: Project) -> str:
    """The answer's column that tells answers apart: spans in a span project, else labels."""
    return "spans" if project.is_spans else "labels"


def answer_summaries_refresh(*, project: Project, item_ids: Collection[int] | None) -> None:
    """Recomputes the answer summaries of these items of the project (None: all its items) from their answers:
    an item without answers loses its summary. One statement on PostgreSQL, two on SQLite."""
    if item_ids is not None and not item_ids:
        return
    answer = answer_field(project)
    if connection.vendor == "postgresql":
        _refresh_postgresql(project=project, item_ids=item_ids, answer=answer)
    else:
        _refresh_sqlite(project=project, item_ids=item_ids, answer=answer)


def _refresh_postgresql(*, project: Project, item_ids: Collection[int] | None, answer: str) -> None:
    if item_ids is None:
        scope = {"summaries": "s.project_id = %(project)s", "answers": "a.project_id = %(project)s"}
    else:
        scope = {"summaries": "s.item_id = ANY(%(items)s)", "answers": "a.item_id = ANY(%(items)s)"}
    with connection.cursor() as cursor:
        cursor.execute(
            _PG_REFRESH.format(answer=answer, **scope), {"project": project.pk, "items": list(item_ids or ())}
        )


def _refresh_sqlite(*, project: Project, item_ids: Collection[int] | None, answer: str) -> None:
    params: list[int | str]
    if item_ids is None:
        summaries, answers, params = "project_id = %s", "a.project_id = %s", [project.pk]
    else:
        # The ids as one JSON parameter: a batch's thousands of items stay under SQLite's variable limit.
        ids = "(SELECT value FROM json_each(%s))"
        summaries, answers, params = f"item_id IN {ids}", f"a.item_id IN {ids}", [json.dumps(list(item_ids))]
    with connection.cursor() as cursor:
        cursor.execute(_SQLITE_DELETE.format(summaries=summaries), params)
        cursor.execute(_SQLITE_UPSERT.format(answer=answer, answers=answers), [project.pk, *params])
