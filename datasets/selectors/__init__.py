"""Reads for snapshots: the rows a snapshot holds (streamed in chunks), the snapshot lists, files and diffs.

The row reader lives here, in the package module itself: the names it looks up when it runs (its SQL, the
weak labels' source `weak_arrays_get`) are this module's, where tests replace them. Everything else is read
from its own module (`columns`, `decisions`, `inferred`, `snapshots`, `schedules`, `suspects`) and re-exported
here.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from typing import Any, NamedTuple

from django.db import connection, connections
from django.db.models import Model

from datasets.choices import LabelPolicy
from datasets.selectors.columns import ROW_FIELDS, RowChunk
from datasets.selectors.decisions import (
    Decider,
    Decision,
    Judged,
    RowSpec,
    Weak,
    WeakArrays,
    weak_arrays_get,
    weak_rows,
)
from datasets.selectors.inferred import InferenceSource, Inferred, inference_source_get, inferred_rows
from datasets.selectors.schedules import (
    ERROR_SCHEDULE_NOT_FOUND,
    RECENT_SNAPSHOTS,
    export_schedule_get,
    export_schedule_list,
)
from datasets.selectors.snapshots import (
    ERROR_NOT_FOUND,
    EXAMPLES,
    MANIFEST_NAME,
    SnapshotDiff,
    snapshot_diff,
    snapshot_file_get,
    snapshot_file_open,
    snapshot_get,
    snapshot_job_get,
    snapshot_latest,
    snapshot_list,
    snapshot_versions,
)
from datasets.selectors.suspects import Suspects, snapshot_suspects_get
from labeling.models import Annotation, GoldLabel
from projects.models import Item, Project
from weak_supervision.models import LabelModelRun
from weak_supervision.selectors import latest_run

__all__ = [
    "ANSWERS_SQL",
    "ERROR_NOT_FOUND",
    "ERROR_SCHEDULE_NOT_FOUND",
    "EXAMPLES",
    "MANIFEST_NAME",
    "RECENT_SNAPSHOTS",
    "ROWS_SQL",
    "ROW_CHUNK",
    "ROW_FIELDS",
    "Decision",
    "InferenceSource",
    "Inferred",
    "Judged",
    "Row",
    "RowChunk",
    "RowSpec",
    "SnapshotDiff",
    "Suspects",
    "Weak",
    "WeakArrays",
    "export_schedule_get",
    "export_schedule_list",
    "inference_source_get",
    "row_spec_build",
    "snapshot_diff",
    "snapshot_file_get",
    "snapshot_file_open",
    "snapshot_get",
    "snapshot_job_get",
    "snapshot_latest",
    "snapshot_list",
    "snapshot_rows",
    "snapshot_run_for",
    "snapshot_suspects_get",
    "snapshot_versions",
    "weak_arrays_get",
]

# Items read per chunk: a chunk's rows, annotations and gold labels are three queries, and its columns are
# one Parquet row group. 20,000 keeps a chunk of long texts well under 100 MB.
ROW_CHUNK = 20_000


# The hot read, as plain SQL fetched whole (the ORM's row-by-row iteration costs about as much as the database
# itself at a million rows): a chunk of items with, per item, how many people answered, the smallest and the
# largest answer (equal when everyone gave the same one, which is most items of most projects) and the gold
# label. Only items whose annotators disagree have their answers read one by one. Portable SQL (PostgreSQL and
# SQLite); table names come from the models.
def _table(model: type[Model]) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


ROWS_SQL = (
    f"WITH chunk AS (SELECT id, external_id, text, metadata, split FROM {_table(Item)} "
    "WHERE project_id = %s AND id > %s ORDER BY id LIMIT %s), "
    "answered AS (SELECT item_id, COUNT(*) AS n, MIN(CAST(labels AS TEXT)) AS lo, MAX(CAST(labels AS TEXT)) AS hi "
    f"FROM {_table(Annotation)} WHERE project_id = %s AND item_id >= (SELECT MIN(id) FROM chunk) "
    "AND item_id <= (SELECT MAX(id) FROM chunk) AND CAST(labels AS TEXT) NOT IN ('[]', 'null') "
    "GROUP BY item_id) "
    "SELECT c.id, c.external_id, c.text, COALESCE(CAST(c.metadata AS TEXT), '{}'), c.split, COALESCE(a.n, 0), "
    "a.lo, a.hi, CAST(g.labels AS TEXT), g.source "
    f"FROM chunk c LEFT JOIN answered a ON a.item_id = c.id LEFT JOIN {_table(GoldLabel)} g ON g.item_id = c.id "
    "ORDER BY c.id"
)
ANSWERS_SQL = (
    f"SELECT item_id, CAST(labels AS TEXT) FROM {_table(Annotation)} "
    "WHERE project_id = %s AND item_id >= %s AND item_id <= %s"
)


class Row(NamedTuple):
    """One item of a chunk as ROWS_SQL reads it, its columns in the order of its SELECT."""

    item_id: int
    external_id: str
    text: str
    metadata: str  # JSON text
    split: str
    n_annotators: int  # how many people answered
    low: str | None  # the smallest and the largest answer (JSON text): equal when everyone gave the same one
    high: str | None
    gold_labels: str | None  # JSON text
    gold_source: str | None


def _fetch(sql: str, params: list[int]) -> list[Any]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _fetch_rows(project_id: int, after_id: int, chunk_size: int) -> list[Row]:
    return list(map(Row._make, _fetch(ROWS_SQL, [project_id, after_id, chunk_size, project_id])))


def snapshot_rows(*, project: Project, spec: RowSpec, chunk_size: int = ROW_CHUNK) -> Iterator[RowChunk]:
    """Every row the snapshot holds, in item id order, a chunk at a time (split: as stored; blank if none)."""
    decider = Decider(spec)
    for rows, answer_rows in _reads(project.pk, chunk_size):
        answers: dict[int, list[tuple[str, ...]]] = {}
        for item_id, raw in answer_rows:
            answer = decider.answer(raw)
            if answer:
                answers.setdefault(item_id, []).append(answer)
        ids = [row.item_id for row in rows]
        weak = weak_rows(spec.weak, spec.label_keys, ids)
        inferred = inferred_rows(spec.inference, spec.label_keys, project.pk, ids)
        chunk = _chunk_build(decider, rows, answers, weak, inferred)
        if len(chunk):
            yield chunk


# A chunk's rows, and the answers of its items where annotators disagreed (item id, labels as JSON text).
Read = tuple[list[Row], list[tuple[int, str]]]


def _reads_here(project_id: int, chunk_size: int) -> Iterator[Read]:
    last_id = 0
    while True:
        rows = _fetch_rows(project_id, last_id, chunk_size)
        if not rows:
            return
        first, last_id = rows[0].item_id, rows[-1].item_id
        disagreed = any(row.low != row.high for row in rows)
        yield rows, _fetch(ANSWERS_SQL, [project_id, first, last_id]) if disagreed else []


def _reads(project_id: int, chunk_size: int) -> Iterator[Read]:
    """The chunks' reads. On PostgreSQL, outside a transaction, the next chunk is read by a thread on its own
    connection while the caller works on this one: the server's time (most of a read) overlaps Python's, and
    at most two chunks wait in memory. Inside a transaction the reads stay on its connection, which alone
    sees what the transaction wrote."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield from _reads_here(project_id, chunk_size)
        return
    ready: queue.Queue[Read | BaseException | None] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def offer(value: Read | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                ready.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read_ahead() -> None:
        try:
            for read in _reads_here(project_id, chunk_size):
                if not offer(read):
                    return
            offer(None)
        except BaseException as exc:  # handed to the caller, which raises it
            offer(exc)
        finally:
            connections.close_all()  # this thread's connection

    reader = threading.Thread(target=read_ahead, name="snapshot-rows", daemon=True)
    reader.start()
    try:
        while (value := ready.get()) is not None:
            if isinstance(value, BaseException):
                raise value
            yield value
    finally:
        stop.set()
        reader.join()


def _chunk_build(
    decider: Decider,
    rows: list[Row],
    answers: dict[int, list[tuple[str, ...]]],
    weak: dict[int, Weak],
    inferred: dict[int, Inferred],
) -> RowChunk:
    """The chunk's rows column by column. Most rows take the shared path: one dictionary lookup each. Under the
    `inferred` policy only gold does: a unanimous answer gives way to the item's inferred label."""
    decisions: list[Decision] = []
    agreements: list[float | None] = []
    kept: list[int] = []
    inferring = decider.spec.policy == LabelPolicy.INFERRED
    for index, row in enumerate(rows):
        gold_raw = row.gold_labels
        if row.low == row.high and (
            gold_raw is not None or (row.low is not None and not inferring)
        ):  # gold, or one unanimous answer
            decision, agreement = decider.decide_shared(gold_raw, row.gold_source, row.low)
        else:
            gold = (list(json.loads(gold_raw)), str(row.gold_source)) if gold_raw is not None else None
            human = answers.get(row.item_id) or _unanimous(decider, row)
            decision, agreement = decider.decide(
                gold, human, weak.get(row.item_id), inferred.get(row.item_id)
            )
        if decision is None:
            continue
        kept.append(index)
        decisions.append(decision)
        agreements.append(agreement)
    if len(kept) < len(rows):
        rows = [rows[index] for index in kept]
    chunk = RowChunk()
    if not rows:
        return chunk
    chunk.item_id = [row.item_id for row in rows]
    chunk.external_id = [row.external_id for row in rows]
    chunk.text = [row.text for row in rows]
    chunk.metadata = [row.metadata for row in rows]
    chunk.split = [row.split for row in rows]
    chunk.n_annotators = [row.n_annotators for row in rows]
    chunk.agreement = agreements
    chunk.label = [decision.joined for decision in decisions]
    chunk.labels = [decision.labels for decision in decisions]
    chunk.label_source = [decision.source for decision in decisions]
    chunk.soft_label = [decision.soft for decision in decisions]
    chunk.confidence = [decision.confidence for decision in decisions]
    return chunk


def _unanimous(decider: Decider, row: Row) -> list[tuple[str, ...]]:
    """The answer of a row whose annotators all gave the same one (its answers are read one by one only where
    they disagree), once: the agreement with a decision is the same for one answer as for all of them."""
    if row.low is None or row.low != row.high:
        return []
    answer = decider.answer(row.low)
    return [answer] if answer else []


def row_spec_build(
    *,
    project: Project,
    policy: str,
    min_confidence: float,
    run: LabelModelRun | None,
    inference: InferenceSource | None = None,
) -> RowSpec:
    """What snapshot_rows needs: the weak labels of `run` (gold+weak and soft), the answers of the inference
    run `inference` (inferred)."""
    weak_policies = (LabelPolicy.GOLD_WEAK, LabelPolicy.SOFT)
    return RowSpec(
        policy=policy,
        min_confidence=min_confidence,
        label_keys=list(project.labels.order_by("order", "id").values_list("key", flat=True)),
        multi_label=project.multi_label,
        weak=weak_arrays_get(run=run) if policy in weak_policies else None,
        inference=inference if policy == LabelPolicy.INFERRED else None,
    )


def snapshot_run_for(*, project: Project) -> LabelModelRun | None:
    """The run whose weak labels a new snapshot uses: the project's latest finished one."""
    return latest_run(project=project)
