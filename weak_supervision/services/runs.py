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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.utils import timezone
from pyarrow import csv as pa_csv
from scipy import sparse

from core.storage import storage_write
from projects.models import Item, Label, Project
from weak_supervision import tasks
from weak_supervision.choices import WRITTEN_KINDS, EndModelStatus, LabelingFunctionKind, RunStatus
from weak_supervision.declarative import ABSTAIN, metadata_field_votes, rule_compile, text_rules_votes
from weak_supervision.hooks import LABEL_MODEL_REVIEW_LIMIT, RunDoubts, run_doubts
from weak_supervision.models import ExternalVote, LabelingFunction, LabelModelRun, RunChunk
from weak_supervision.sandbox import SandboxResult, python_votes
from weak_supervision.selectors import chunk_load_coded
from weak_supervision.services.label_model import analysis_merge, chunk_analysis, run_results_compute

# Items per chunk. A chunk of 50k items and 10 LFs is about 15 MB in memory and a third of a second of work,
# so a lost chunk is cheap to redo and progress moves in steps of 5% at a million items, while each task's
# own cost in Celery and the database (about 20 ms here, measured with no-op tasks) stays small beside it.
CHUNK_SIZE = 50_000
# External votes are read in batches of this many rows.
READ_BATCH = 5_000
MIN_LFS = 3
ERROR_TOO_FEW_LFS = "A run needs at least {n} active labeling function(s); this project has {have}."
ERROR_NO_ITEMS = "The project has no items to label."
ERROR_CHUNKS_MISSING = "Chunks {missing} of the run have no votes; run it again."

IntMatrix = npt.NDArray[np.int8]


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
    """Freezes the active LF versions and the chunks, then hands the run to the workers on commit."""
    columns = _columns(project)
    needed = 1 if project.multi_label else MIN_LFS  # the multi-label aggregator has no minimum
    if len(columns) < needed:
        raise ValidationError(ERROR_TOO_FEW_LFS.format(n=needed, have=len(columns)), code="too_few_lfs")
    chunks, count = _chunk_bounds(project, chunk_size)
    if not count:
        raise ValidationError(ERROR_NO_ITEMS, code="no_items")
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).first()
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
        transaction.on_commit(lambda: tasks.run_dispatch_task.delay(run.pk))
    return run


def run_mark_running(*, run: LabelModelRun) -> None:
    LabelModelRun.objects.filter(pk=run.pk, status=RunStatus.PENDING).update(
        status=RunStatus.RUNNING, started_at=timezone.now()
    )


def run_fail(*, run_id: int, error: str) -> None:
    LabelModelRun.objects.filter(pk=run_id).exclude(status=RunStatus.SUCCEEDED).update(
        status=RunStatus.FAILED, error=error[-10_000:], finished_at=timezone.now()
    )


# --- one chunk ---------------------------------------------------------------------------------------------
def chunk_path(run: LabelModelRun, index: int) -> str:
    return f"weak_supervision/runs/{run.project_id}/{run.pk}/chunk-{index:05d}.npz"


def _external_votes(column: dict[str, Any], ids: list[int], label_index: dict[int, int]) -> IntMatrix:
    position = {item_id: row for row, item_id in enumerate(ids)}
    votes = np.full(len(ids), ABSTAIN, dtype=np.int8)
    found = ExternalVote.objects.filter(
        labeling_function_id=column["lf"], item_id__gte=ids[0], item_id__lte=ids[-1]
    ).values_list("item_id", "label_id")
    for item_id, label_id in found.iterator(chunk_size=READ_BATCH):
        if item_id in position:
            votes[position[item_id]] = label_index[label_id]
    return votes


def chunk_votes(run: LabelModelRun, items: ChunkItems) -> tuple[IntMatrix, dict[str, dict[str, Any]]]:
    """The votes of the run's LF versions on these items: one column per LF, -1 where it abstains.

    A Python LF that fails abstains on the whole chunk; its error and first failing item are returned.
    """
    ids = items.ids
    errors: dict[str, dict[str, Any]] = {}
    label_index = {
        pk: run.labels.index(key)
        for pk, key in Label.objects.filter(project_id=run.project_id).values_list("pk", "key")
    }
    matrix = np.full((len(ids), len(run.lf_versions)), ABSTAIN, dtype=np.int8)
    text_columns: list[int] = []
    python_results: dict[str, SandboxResult] = {}
    for column, lf in enumerate(run.lf_versions):
        if lf["kind"] in (LabelingFunctionKind.KEYWORD, LabelingFunctionKind.REGEX):
            text_columns.append(column)  # all text rules together below, in C++ where the texts allow
        elif lf["kind"] == LabelingFunctionKind.EXTERNAL:
            matrix[:, column] = _external_votes(lf, ids.tolist(), label_index)
        elif lf["kind"] == LabelingFunctionKind.PYTHON:
            key = str(lf["lf"])
            if key not in python_results:  # a multi-label Python LF has a column per label: run it once
                python_results[key] = python_votes(
                    code=lf["spec"]["code"],
                    labels=run.labels,
                    texts=items.text_list(),
                    metadata=items.metadata or [{} for _ in range(len(ids))],
                    multi_label=run.project.multi_label,
                )
            result = python_results[key]
            if result.votes is None:
                failing = int(ids[result.item_index]) if result.item_index is not None and len(ids) else None
                errors[key] = {"name": lf["name"], "error": result.error, "item_id": failing}
            elif result.votes.ndim == 2:
                label = run.labels.index(lf["label"])
                matrix[:, column] = np.where(result.votes[:, label], label, ABSTAIN)
            else:
                matrix[:, column] = result.votes
        else:
            rule = rule_compile(lf["kind"], lf["spec"], run.labels.index(lf["label"]))
            if items.fields is not None:
                matrix[:, column] = metadata_field_votes(rule, items.fields[lf["spec"]["field"]])
            else:
                matrix[:, column] = rule.votes([], items.metadata or [])
    if text_columns:
        rules = [
            rule_compile(
                run.lf_versions[c]["kind"],
                run.lf_versions[c]["spec"],
                run.labels.index(run.lf_versions[c]["label"]),
            )
            for c in text_columns
        ]
        matrix[:, text_columns] = text_rules_votes(rules, items.texts)
    return matrix, errors


def _packed(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Non-negative integers in the smallest of 16, 32 and 64 bits that holds them all."""
    top = int(values.max()) if len(values) else 0
    return values.astype(np.uint16 if top < 2**16 else np.uint32 if top < 2**32 else np.int64)


def _matrix_bytes(items: ChunkItems, matrix: IntMatrix) -> bytes:
    """A chunk's votes as a sparse file, small without compression (zlib cost more than the rules did):
    votes shifted by one so that abstentions (the vast majority) are the sparse zeros; each row's count of
    votes, their columns and the gaps between item ids (mostly 1) in as few bits as hold them; the items'
    splits as codes into their few names (they travel along, so that the finish step need not read a
    million items again). `chunk_load` reads it back."""
    shifted = sparse.csr_matrix((matrix + 1).astype(np.int8))
    id_array = items.ids
    buffer = io.BytesIO()
    np.savez(
        buffer,
        id_first=id_array[:1],
        id_gaps=_packed(np.diff(id_array)),
        data=shifted.data,
        indices=_packed(shifted.indices),
        row_counts=_packed(np.diff(shifted.indptr)),
        shape=np.asarray(shifted.shape),
        split_names=np.asarray(items.split_names, dtype="U8"),
        split_codes=items.split_codes,
    )
    return buffer.getvalue()


def probabilities_path(run: LabelModelRun) -> str:
    return f"weak_supervision/runs/{run.project_id}/{run.pk}/probabilities.npz"


def _probabilities_bytes(
    ids: npt.NDArray[np.int64], probabilities: npt.NDArray[np.float64], covered: npt.NDArray[np.bool_]
) -> bytes:
    buffer = io.BytesIO()
    # Not compressed: probabilities barely compress, and this runs in the one serial step of a run.
    np.savez(buffer, ids=ids, probabilities=probabilities.astype(np.float32), covered=covered)
    return buffer.getvalue()


def _metadata_paths(run: LabelModelRun) -> list[str] | None:
    """The metadata fields the run's LFs read, or None when one needs whole objects (a Python LF)."""
    kinds = {lf["kind"] for lf in run.lf_versions}
    if LabelingFunctionKind.PYTHON in kinds:
        return None
    return sorted(
        {lf["spec"]["field"] for lf in run.lf_versions if lf["kind"] == LabelingFunctionKind.METADATA}
    )


@dataclass
class ChunkItems:
    """A chunk's items as its LFs need them.

    On PostgreSQL without Python LFs the texts are an Arrow array read straight from the database (they never
    become Python strings unless a rule needs Python's `re`), and `fields` holds each metadata field the rules
    name as the database extracted it: its JSON text per row (null where missing). Otherwise
    `texts` is a list and `metadata` the whole decoded objects.
    """

    ids: npt.NDArray[np.int64]
    texts: Sequence[str] | pa.Array
    split_names: list[str]
    split_codes: npt.NDArray[np.uint8]
    metadata: list[dict[str, Any]] | None = None
    fields: dict[str, pa.Array] | None = None

    def text_list(self) -> list[str]:
        return self.texts.to_pylist() if isinstance(self.texts, pa.Array) else list(self.texts)


def _split_codes(splits: Sequence[str]) -> tuple[list[str], npt.NDArray[np.uint8]]:
    names, codes = np.unique(np.asarray(splits, dtype="U8"), return_inverse=True)
    return [str(name) for name in names], codes.astype(np.uint8)


def _chunk_items(run: LabelModelRun, index: int) -> ChunkItems:
    """A chunk's items: ids, texts, splits and the metadata the LFs read, where that is cheaper.

    On PostgreSQL, unless a Python LF needs whole items, the chunk is one `COPY ... TO STDOUT` in CSV parsed by
    Arrow in C++ (half the time of fetching rows into Python objects), and only the metadata fields the rules
    name are extracted, as JSON text (by the database, exactly: `->` steps into objects only, as the
    rules do; SQLite's JSON_EXTRACT turns the string "7" into 7, so there the objects are decoded whole).
    """
    first, last = run.chunks[index]
    paths = _metadata_paths(run)
    if paths is None or connection.vendor != "postgresql":
        items = Item.objects.filter(project_id=run.project_id, id__gte=first, id__lte=last).order_by("id")
        rows = list(items.values_list("id", "text", "split", "metadata"))
        names, codes = _split_codes([r[2] for r in rows])
        return ChunkItems(
            ids=np.asarray([r[0] for r in rows], dtype=np.int64),
            texts=[r[1] for r in rows],
            split_names=names,
            split_codes=codes,
            metadata=[r[3] or {} for r in rows],
        )
    columns, params = [], []
    for path in paths:
        columns.append("metadata" + " -> %s" * len(path.split(".")))
        params += path.split(".")
    selected = "".join(f", {column}" for column in columns)
    table = connection.ops.quote_name(Item._meta.db_table)
    buffer = io.BytesIO()
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY (SELECT id, text, split{selected} FROM {table} "
            "WHERE project_id = %s AND id >= %s AND id <= %s ORDER BY id) TO STDOUT (FORMAT csv)",
            [*params, run.project_id, first, last],
        ) as copy,
    ):
        for block in copy:
            buffer.write(block)
    data = buffer.getvalue()
    names = ["id", "text", "split"] + [f"field{n}" for n in range(len(paths))]
    parsed = (
        pa_csv.read_csv(
            io.BytesIO(data),
            # One block, one thread: a worker process works on one core (scale with processes, as Celery does).
            read_options=pa_csv.ReadOptions(column_names=names, block_size=len(data) + 1, use_threads=False),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            # PostgreSQL's CSV writes NULL unquoted and empty, and an empty string as "".
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.int64() if name == "id" else pa.string() for name in names},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
        if data
        else pa.table({name: pa.array([], pa.int64() if name == "id" else pa.string()) for name in names})
    )
    splits = pc.dictionary_encode(parsed.column("split").combine_chunks())
    return ChunkItems(
        ids=parsed.column("id").to_numpy().astype(np.int64),
        texts=parsed.column("text").combine_chunks(),
        split_names=[str(name) for name in splits.dictionary.to_pylist()],
        split_codes=splits.indices.to_numpy(zero_copy_only=False).astype(np.uint8),
        fields={path: parsed.column(f"field{n}").combine_chunks() for n, path in enumerate(paths)},
    )


def run_chunk_apply(*, run: LabelModelRun, index: int) -> RunChunk:
    """Computes and stores one chunk's votes. Idempotent: a chunk already recorded is not redone."""
    done = RunChunk.objects.filter(run=run, index=index).first()
    if done is not None:
        return done
    started = time.perf_counter()
    items = _chunk_items(run, index)
    matrix, errors = chunk_votes(run, items)
    path = chunk_path(run, index)
    # Written whole, then recorded: a worker that dies in between leaves a file that the retry overwrites.
    storage_write(path, _matrix_bytes(items, matrix))
    analysis = chunk_analysis(matrix)
    chunk, _ = RunChunk.objects.get_or_create(
        run=run,
        index=index,
        defaults={
            "path": path,
            "rows": len(items.ids),
            "seconds": time.perf_counter() - started,
            "errors": errors,
            "analysis": analysis,
        },
    )
    return chunk


# --- the whole run -----------------------------------------------------------------------------------------
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
    chunks = list(RunChunk.objects.filter(run=run).order_by("index"))
    missing = sorted(set(range(len(run.chunks))) - {chunk.index for chunk in chunks})
    if missing:
        raise ValidationError(
            ERROR_CHUNKS_MISSING.format(missing=", ".join(map(str, missing))), code="chunks"
        )
    loaded = [chunk_load_coded(chunk.path) for chunk in chunks]
    if not loaded:
        empty = np.zeros(0, dtype=np.int64)
        return empty, np.zeros((0, len(run.lf_versions)), np.int8), empty.astype(np.uint8), []
    names = sorted({name for part in loaded for name in part[3]})
    codes = np.concatenate(
        [np.asarray([names.index(name) for name in part[3]], dtype=np.uint8)[part[2]] if len(part[2]) else part[2]
         for part in loaded]
    )  # fmt: skip
    return np.concatenate([part[0] for part in loaded]), np.vstack([part[1] for part in loaded]), codes, names


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
            transaction.on_commit(lambda: tasks.end_model_task.delay(run.pk))
    except Exception:
        run_fail(run_id=run.pk, error=traceback.format_exc())
        raise
    run.refresh_from_db()
    return run
