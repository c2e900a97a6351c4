"""The latest run's answers as rows: what the item browser filters and sorts a million items on, in SQL.

A run's record stays in its files (probabilities, chunk votes, the end model's probabilities); these tables
repeat, for the project's latest succeeded run only, each item's top weak label and its confidence
(ItemWeakLabel), each LF's non-abstaining votes (ItemLfVote) and the end model's label (ItemEndModelLabel).
`run_outputs_store` runs in its own task after a run succeeds and replaces the project's rows (the end model's
too: they belonged to the run before); `end_model_labels_store` runs when that run's end model is stored.
Both are idempotent and store nothing for a run that is no longer the project's latest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection, models, transaction

from core.queries import statistics_refresh
from projects.models import Item, Project
from weak_supervision.declarative import ABSTAIN
from weak_supervision.models import ItemEndModelLabel, ItemLfVote, ItemWeakLabel, LabelModelRun
from weak_supervision.selectors import (
    end_model_probabilities_get,
    latest_run,
    run_probabilities_get,
    run_span_answers,
)
from weak_supervision.services.runs import run_lf_errors, run_matrix_coded
from weak_supervision.services.span_runs import span_run_data
from weak_supervision.ties import predictions

# Rows per INSERT where there is no COPY (SQLite): 500 rows of 4 columns stay under its variable limit.
ORM_BATCH = 500


def _rows_write(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Inserts the rows: by COPY on PostgreSQL (a million weak labels in a few seconds), else in batches."""
    if connection.vendor == "postgresql":
        statement = f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        return
    batch: list[models.Model] = []
    for row in rows:
        batch.append(model(**dict(zip(columns, row, strict=True))))
        if len(batch) >= ORM_BATCH:
            model._default_manager.bulk_create(batch)
            batch = []
    model._default_manager.bulk_create(batch)


def _present(run: LabelModelRun, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Which of the run's items still exist (an item deleted since the run has no row to point at)."""
    existing = np.fromiter(
        Item.objects.filter(project_id=run.project_id)
        .values_list("id", flat=True)
        .iterator(chunk_size=20_000),
        dtype=np.int64,
    )
    return np.isin(ids, existing)


def _is_latest(run: LabelModelRun) -> bool:
    """Whether the run is its project's latest succeeded one, under a lock on the project's row: two runs'
    writers take turns, and the older one, coming second, stores nothing."""
    Project.objects.select_for_update().filter(pk=run.project_id).first()
    latest = latest_run(project=run.project)
    return latest is not None and latest.pk == run.pk


def run_outputs_store(*, run: LabelModelRun) -> int:
    """Replaces the project's weak-label, LF-vote and end-model rows by this run's weak labels and votes;
    returns how many weak labels were stored (0 for a run that is not the project's latest succeeded one)."""
    if run.project.is_spans:
        return span_outputs_store(run=run)
    loaded = run_probabilities_get(run=run)
    if loaded is None:
        return 0
    ids, probabilities, covered = loaded
    if run.project.multi_label:
        best = np.argmax(probabilities, axis=1) if len(ids) else np.zeros(0, np.int64)
    else:
        best = predictions(probabilities, ids)
    confidence = np.round(probabilities[np.arange(len(ids)), best].astype(np.float64), 4)
    kept = _present(run, ids)
    ids, best, confidence, covered = ids[kept], best[kept], confidence[kept], covered[kept]
    vote_ids, matrix, _, _ = run_matrix_coded(run)
    kept_votes = _present(run, vote_ids)
    vote_ids, matrix = vote_ids[kept_votes], matrix[kept_votes]
    failed = run_lf_errors(run)
    lf_ids = [int(column["lf"]) for column in run.lf_versions]
    with transaction.atomic():
        if not _is_latest(run):
            return 0
        project = run.project
        ItemWeakLabel.objects.filter(project=project).delete()
        # The end model's rows of the run before (this run's own, where its end model came first, stay).
        ItemEndModelLabel.objects.filter(project=project).exclude(run=run).delete()
        ItemLfVote.objects.filter(labeling_function__project=project).delete()
        _rows_write(
            ItemWeakLabel,
            ["item_id", "project_id", "run_id", "label", "confidence"],
            (
                (
                    item_id,
                    project.pk,
                    run.pk,
                    run.labels[top] if is_covered else "",
                    score if is_covered else 0.0,
                )
                for item_id, top, score, is_covered in zip(
                    ids.tolist(), best.tolist(), confidence.tolist(), covered.tolist(), strict=True
                )
            ),
        )
        for column, lf_id in enumerate(lf_ids):
            if str(lf_id) in failed:  # an LF that failed anywhere abstains everywhere in the run
                continue
            voted = np.flatnonzero(matrix[:, column] != ABSTAIN)
            _rows_write(
                ItemLfVote,
                ["item_id", "labeling_function_id", "label"],
                (
                    (item_id, lf_id, run.labels[vote])
                    for item_id, vote in zip(
                        vote_ids[voted].tolist(), matrix[voted, column].tolist(), strict=True
                    )
                ),
            )
    statistics_refresh([ItemWeakLabel, ItemLfVote, ItemEndModelLabel])
    return len(ids)


def span_outputs_store(*, run: LabelModelRun) -> int:
    """A span run's rows: each item's weak spans (with their text) on ItemWeakLabel, `label` the first span's
    type (blank without spans) and `confidence` the mean posterior of the delivered tags over the tokens some
    LF tagged (0 where none did); an ItemLfVote per LF and type it marks in an item."""
    loaded = run_span_answers(run=run)
    if loaded is None:
        return 0
    ids, spans, confidence, covered = loaded
    kept = _present(run, ids)
    texts = dict(
        Item.objects.filter(project_id=run.project_id).values_list("id", "text").iterator(chunk_size=5_000)
    )
    data = span_run_data(run)
    failed = run_lf_errors(run)
    with transaction.atomic():
        if not _is_latest(run):
            return 0
        project = run.project
        ItemWeakLabel.objects.filter(project=project).delete()
        ItemEndModelLabel.objects.filter(project=project).delete()
        ItemLfVote.objects.filter(labeling_function__project=project).delete()
        rows = []
        for row in np.flatnonzero(kept).tolist():
            item_id, text = int(ids[row]), texts.get(int(ids[row]), "")
            found = [{"start": s, "end": e, "label": kind, "text": text[s:e]} for s, e, kind in spans[row]]
            rows.append((item_id, project.pk, run.pk, found[0]["label"] if found else "", json.dumps(found),
                         round(float(confidence[row]), 4) if covered[row] else 0.0))  # fmt: skip
        if connection.vendor != "postgresql":
            rows = [(a, b, c, d, json.loads(e), f) for a, b, c, d, e, f in rows]
        _rows_write(ItemWeakLabel, ["item_id", "project_id", "run_id", "label", "spans", "confidence"], rows)
        item_of = data.tokens.item_of_token()
        present = set(Item.objects.filter(project_id=run.project_id).values_list("id", flat=True))
        for column, lf in enumerate(run.lf_versions):
            if str(lf["lf"]) in failed:
                continue
            tags = data.tokens.votes[:, column]
            pairs = sorted({(int(data.ids[item_of[t]]), run.labels[(int(tags[t]) - 1) // 2])
                            for t in np.flatnonzero(tags).tolist()})  # fmt: skip
            _rows_write(
                ItemLfVote,
                ["item_id", "labeling_function_id", "label"],
                ((item_id, int(lf["lf"]), kind) for item_id, kind in pairs if item_id in present),
            )
    statistics_refresh([ItemWeakLabel, ItemLfVote, ItemEndModelLabel])
    return int(kept.sum())


def end_model_labels_store(*, run: LabelModelRun) -> int:
    """Replaces the project's end-model rows by this run's end model's labels; returns how many were stored
    (0 where the run has no end model or is not the project's latest succeeded run)."""
    loaded = end_model_probabilities_get(run=run)
    if loaded is None:
        return 0
    ids, probabilities = loaded
    best = np.argmax(probabilities, axis=1) if len(ids) else np.zeros(0, np.int64)
    kept = _present(run, ids)
    ids, best = ids[kept], best[kept]
    with transaction.atomic():
        if not _is_latest(run):
            return 0
        ItemEndModelLabel.objects.filter(project_id=run.project_id).delete()
        _rows_write(
            ItemEndModelLabel,
            ["item_id", "project_id", "run_id", "label"],
            (
                (item_id, run.project_id, run.pk, run.labels[top])
                for item_id, top in zip(ids.tolist(), best.tolist(), strict=True)
            ),
        )
    statistics_refresh([ItemEndModelLabel])
    return len(ids)
