"""Runs: apply a fixed set of LF versions to every item in chunks, then fit Snorkel's label model.

`run_start` freezes the active LF versions and cuts the project's items into chunks of consecutive ids;
`run_chunk_apply` computes one chunk's votes and writes them as a sparse file (any worker can take any
chunk; doing one twice writes the same file); `run_finish` stacks the chunks, fits the label model,
computes the majority-vote baseline and the analytics, and stores each item's probabilistic label.
"""

from __future__ import annotations

import io
import time
import traceback
from typing import Any

import numpy as np
import numpy.typing as npt
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from core.jobs import Started, enqueue_on_commit, join_since
from core.storage import storage_write
from projects.models import Item, Project
from weak_supervision import tasks
from weak_supervision.choices import WRITTEN_KINDS, EndModelStatus, LabelingFunctionKind, RunStatus
from weak_supervision.declarative import ABSTAIN
from weak_supervision.hooks import LABEL_MODEL_REVIEW_LIMIT, RunDoubts, run_doubts
from weak_supervision.models import LabelingFunction, LabelModelRun, RunChunk
from weak_supervision.selectors import ERROR_CHUNKS_MISSING, chunk_load_coded, run_chunks_complete
from weak_supervision.services.chunks import (
    ChunkItems,
    IntMatrix,
    _chunk_items,
    chunk_votes,
    run_chunk_apply,
)
from weak_supervision.services.lf_analysis import analysis_merge
from weak_supervision.services.span_runs import span_run_finish

# One chunk's step lives in weak_supervision.services.chunks; its names are imported from here too, as before.
__all__ = [
    "CHUNK_SIZE",
    "ERROR_CHUNKS_MISSING",
    "ERROR_NO_ITEMS",
    "ERROR_TOO_FEW_LFS",
    "MIN_LFS",
    "ChunkItems",
    "_chunk_items",
    "chunk_votes",
    "least_confident",
    "probabilities_path",
    "run_chunk_apply",
    "run_fail",
    "run_finish",
    "run_lf_errors",
    "run_mark_running",
    "run_matrix",
    "run_matrix_coded",
    "run_start",
    "run_start_or_join",
]

# Items per chunk. A chunk of 50k items and 10 LFs is about 15 MB in memory and a third of a second of work,
# so a lost chunk is cheap to redo and progress moves in steps of 5% at a million items, while each task's
# own cost in Celery and the database (about 20 ms here, measured with no-op tasks) stays small beside it.
CHUNK_SIZE = 50_000
MIN_LFS = 3
ERROR_TOO_FEW_LFS = "A run needs at least {n} active labeling function(s); this project has {have}."
ERROR_NO_ITEMS = "The project has no items to label."
# A run in these is under way: a second start answers with it.
ACTIVE_STATUSES = (RunStatus.PENDING, RunStatus.RUNNING)


def _columns(project: Project) -> list[dict[str, Any]]:
    lfs = LabelingFunction.objects.filter(project=project, active=True).select_related("current_version")
    columns = []
    for lf in lfs.order_by("name", "id"):
        version = lf.current_version
        if lf.kind in WRITTEN_KINDS and version is None:
            continue
        column = {
            "lf": lf.pk,
            "name": lf.name,
            "kind": lf.kind,
            "version": version.number if version else None,
            "label": version.label if version else None,
            "spec": version.spec if version else None,
        }
        if project.multi_label and lf.kind == LabelingFunctionKind.PYTHON:
            # One vote per label: a Python LF may return several labels, so it gets a column for each.
            keys = list(project.labels.values_list("key", flat=True))
            columns += [{**column, "name": f"{lf.name}:{key}", "label": key} for key in keys]
        else:
            columns.append(column)
    return columns


def _project_ids(project: Project) -> npt.NDArray[np.int64]:
    """Every item id of the project, in order. On PostgreSQL as one bytea of 8-byte ids read by numpy and
    sorted here: a million result rows, or an int8[] value, cost the driver more than the scan (measured:
    0.30 s against 0.55 s for array_agg and 1.3 s for the window query before it)."""
    table = connection.ops.quote_name(Item._meta.db_table)
    if connection.vendor != "postgresql":
        return np.fromiter(
            Item.objects.filter(project=project).order_by("id").values_list("id", flat=True), dtype=np.int64
        )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT string_agg(int8send(id), ''::bytea) FROM {table} WHERE project_id = %s", [project.pk]
        )
        (found,) = cursor.fetchone()
    return np.sort(np.frombuffer(bytes(found or b""), dtype=">i8").astype(np.int64))


def _chunk_bounds(project: Project, chunk_size: int) -> tuple[list[list[int]], int]:
    """[first id, last id] of each run of `chunk_size` items in id order, and the number of items.

    When the project's ids are consecutive (no other project's item between its first and last: the usual
    case after an import), the bounds follow from the first id and the count, which the (project, id) index
    gives at once; otherwise every id is read."""
    found = Item.objects.filter(project=project).aggregate(first=Min("id"), last=Max("id"), count=Count("id"))
    count = int(found["count"] or 0)
    if not count:
        return [], 0
    first, last = int(found["first"]), int(found["last"])
    if last - first + 1 == count:
        return [
            [start, min(start + chunk_size - 1, last)] for start in range(first, last + 1, chunk_size)
        ], count
    ids = _project_ids(project)
    starts = ids[::chunk_size]
    ends = ids[np.minimum(np.arange(len(starts)) * chunk_size + chunk_size - 1, len(ids) - 1)]
    return [[int(start), int(end)] for start, end in zip(starts, ends, strict=True)], len(ids)


def run_start(*, project: Project, user: User | None, chunk_size: int = CHUNK_SIZE) -> LabelModelRun:
    """Freezes the active LF versions and the chunks, then hands the run to the workers on commit; while a
    run of the project is pending or running, returns that one instead (run_start_or_join)."""
    return run_start_or_join(project=project, user=user, chunk_size=chunk_size).job


def run_start_or_join(
    *, project: Project, user: User | None, chunk_size: int = CHUNK_SIZE
) -> Started[LabelModelRun]:
    """Starts a run, or answers with the project's run already pending or running (a second click, a second
    request): one run at a time per project. The project's row lock makes two starts take turns."""
    # Looked up before the transaction too: on SQLite a transaction takes the write lock as it begins, and a
    # job in progress may hold it (an import), so the answer to a second click would wait for it.
    if (running := _run_under_way(project)) is not None:
        return Started(job=running, created=False)
    with transaction.atomic():
        # NO KEY: an import's long transaction holds a key-share lock on the row (its items point at it).
        Project.objects.select_for_update(no_key=True).filter(pk=project.pk).first()
        if (running := _run_under_way(project)) is not None:
            return Started(job=running, created=False)
        columns = _columns(project)
        # The multi-label and span aggregators have no minimum (one LF's spans are weak spans already).
        needed = 1 if project.multi_label or project.is_spans else MIN_LFS
        if len(columns) < needed:
            raise ValidationError(ERROR_TOO_FEW_LFS.format(n=needed, have=len(columns)), code="too_few_lfs")
        chunks, count = _chunk_bounds(project, chunk_size)
        if not count:
            raise ValidationError(ERROR_NO_ITEMS, code="no_items")
        number = (LabelModelRun.objects.filter(project=project).aggregate(n=Max("number"))["n"] or 0) + 1
        run = LabelModelRun.objects.create(
            project=project,
            number=number,
            created_by=user,
            lf_versions=columns,
            chunks=chunks,
            item_count=count,
            labels=list(project.labels.values_list("key", flat=True)),
        )
        enqueue_on_commit(tasks.run_dispatch_task, run.pk)
    return Started(job=run, created=True)


def _run_under_way(project: Project) -> LabelModelRun | None:
    active = LabelModelRun.objects.filter(
        project=project, status__in=ACTIVE_STATUSES, created_at__gte=join_since()
    )
    return active.order_by("-number").first()


def run_mark_running(*, run: LabelModelRun) -> None:
    LabelModelRun.objects.filter(pk=run.pk, status=RunStatus.PENDING).update(
        status=RunStatus.RUNNING, started_at=timezone.now()
    )


def run_fail(*, run_id: int, error: str) -> None:
    LabelModelRun.objects.filter(pk=run_id).exclude(status=RunStatus.SUCCEEDED).update(
        status=RunStatus.FAILED, error=error[-10_000:], finished_at=timezone.now()
    )


def probabilities_path(run: LabelModelRun) -> str:
    return f"weak_supervision/runs/{run.project_id}/{run.pk}/probabilities.npz"


def _probabilities_bytes(
    ids: npt.NDArray[np.int64], probabilities: npt.NDArray[np.float64], covered: npt.NDArray[np.bool_]
) -> bytes:
    buffer = io.BytesIO()
    # Not compressed: probabilities barely compress, and this runs in the one serial step of a run.
    np.savez(buffer, ids=ids, probabilities=probabilities.astype(np.float32), covered=covered)
    return buffer.getvalue()


def run_lf_errors(run: LabelModelRun) -> dict[str, dict[str, Any]]:
    """Per failed LF (by id), the first chunk's error and failing item: such an LF abstains everywhere."""
    errors: dict[str, dict[str, Any]] = {}
    for chunk_errors in RunChunk.objects.filter(run=run).order_by("index").values_list("errors", flat=True):
        for lf_id, error in (chunk_errors or {}).items():
            errors.setdefault(lf_id, error)
    return errors


def run_matrix(run: LabelModelRun) -> tuple[npt.NDArray[np.int64], IntMatrix, npt.NDArray[np.str_]]:
    """The whole run's item ids, label matrix and item splits, stacked from its chunk files."""
    ids, matrix, codes, names = run_matrix_coded(run)
    return ids, matrix, np.asarray(names, dtype="U8")[codes] if names else np.zeros(0, dtype="U8")


def run_matrix_coded(
    run: LabelModelRun,
) -> tuple[npt.NDArray[np.int64], IntMatrix, npt.NDArray[np.uint8], list[str]]:
    """The whole run's item ids, label matrix, and item splits as codes into a sorted list of names."""
    chunks = run_chunks_complete(run)
    loaded = [chunk_load_coded(chunk.path) for chunk in chunks]
    if not loaded:
        empty = np.zeros(0, dtype=np.int64)
        return empty, np.zeros((0, len(run.lf_versions)), np.int8), empty.astype(np.uint8), []
    names = sorted({name for _, _, _, chunk_names in loaded for name in chunk_names})
    codes = np.concatenate(
        [np.asarray([names.index(name) for name in chunk_names], dtype=np.uint8)[chunk_codes]
         if len(chunk_codes) else chunk_codes
         for _, _, chunk_codes, chunk_names in loaded]
    )  # fmt: skip
    ids = np.concatenate([chunk_ids for chunk_ids, _, _, _ in loaded])
    return ids, np.vstack([votes for _, votes, _, _ in loaded]), codes, names


def least_confident(
    confidence: npt.NDArray[np.float64], covered: npt.NDArray[np.bool_], threshold: float, limit: int
) -> npt.NDArray[np.intp]:
    """The rows of covered items under the confidence threshold, the least confident first (ties in row
    order), at most `limit`: what a stable sort of them all gives, from only those at or under the limit's
    confidence (a partition, where there are more: not a sort of up to a million values)."""
    doubtful = np.flatnonzero(covered & (confidence < threshold))
    if len(doubtful) > limit > 0:
        cut = np.partition(confidence[doubtful], limit - 1)[limit - 1]
        doubtful = doubtful[confidence[doubtful] <= cut]
    return doubtful[np.argsort(confidence[doubtful], kind="stable")[:limit]]


def _queue_doubtful(
    run: LabelModelRun,
    ids: npt.NDArray[np.int64],
    probabilities: npt.NDArray[np.float64],
    covered: npt.NDArray[np.bool_],
) -> None:
    """Sends the items the label model is least sure of (under the project's threshold) to review."""
    project = run.project
    if run.project.multi_label or not len(ids):
        return
    confidence = probabilities.max(axis=1)
    chosen = least_confident(
        confidence, covered, project.review_confidence_threshold, LABEL_MODEL_REVIEW_LIMIT
    )
    run_doubts(
        RunDoubts(
            project=project, confidences={int(ids[row]): round(float(confidence[row]), 4) for row in chosen}
        )
    )


def _merged_analysis(run: LabelModelRun) -> dict[str, list[Any]] | None:
    """The run's LFAnalysis figures from its chunks' counts; None when a chunk has none (recorded before
    chunks counted them), and the finish step computes them on the whole matrix."""
    parts = list(RunChunk.objects.filter(run=run).order_by("index").values_list("analysis", flat=True))
    m = len(run.lf_versions)
    if not parts or any(len((part or {}).get("covered", [])) != m for part in parts):
        return None
    return analysis_merge(parts, m)


def run_finish(*, run: LabelModelRun) -> LabelModelRun:
    """Fits the label model on the stacked votes and stores metrics, LF analytics and weak labels."""
    if run.project.is_spans:
        return span_run_finish(run=run)
    # Here, not at the top: the label-model code loads Snorkel and torch (about 200 MB), which only the worker
    # that finishes a run needs, not every web process that imports this module to start one.
    from weak_supervision.services.label_model import run_results_compute

    started = time.perf_counter()
    try:
        ids, matrix, split_codes, split_labels = run_matrix_coded(run)
        loaded = time.perf_counter()
        errors = run_lf_errors(run)
        for column, lf in enumerate(run.lf_versions):
            if str(lf["lf"]) in errors:  # an LF that failed anywhere is left out everywhere: it abstains
                matrix[:, column] = ABSTAIN
        results = run_results_compute(
            run=run,
            ids=ids,
            matrix=matrix,
            split_codes=split_codes,
            split_labels=split_labels,
            analysis=None if errors else _merged_analysis(run),
        )
        computed = time.perf_counter()
        results.metrics["lf_errors"] = errors
        results.metrics["end_model"] = {
            "status": EndModelStatus.PENDING
        }  # trained by its own task, after commit
        for row in results.lf_analysis:  # the error's text is kept once, in metrics["lf_errors"]
            row["failed"] = str(row["lf"]) in errors
        path = probabilities_path(run)
        storage_write(path, _probabilities_bytes(results.ids, results.probabilities, results.covered))
        results.metrics["seconds"] = {
            "apply_chunks": round(sum(RunChunk.objects.filter(run=run).values_list("seconds", flat=True)), 2),
            "load_votes": round(loaded - started, 2),
            "fit_and_score": round(computed - loaded, 2),
            "write": round(time.perf_counter() - computed, 2),
        }
        with transaction.atomic():
            LabelModelRun.objects.filter(pk=run.pk).update(
                probabilities_path=path,
                status=RunStatus.SUCCEEDED,
                metrics=results.metrics,
                lf_analysis=results.lf_analysis,
                error="",
                finished_at=timezone.now(),
            )
            _queue_doubtful(run, results.ids, results.probabilities, results.covered)
            # The rows the item browser filters on first: the end model's task replaces its own after them.
            enqueue_on_commit(tasks.run_outputs_store_task, run.pk)
            enqueue_on_commit(tasks.end_model_task, run.pk)
    except Exception:
        run_fail(run_id=run.pk, error=traceback.format_exc())
        raise
    run.refresh_from_db()
    return run
