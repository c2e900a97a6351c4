"""One chunk of a run: read its items, compute its LF versions' votes, and store them as a sparse file.

Any worker can take any chunk; doing one twice writes the same file (`run_chunk_apply` is idempotent). The
run's start and finish are in weak_supervision.services.runs.
"""

from __future__ import annotations

import io
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection
from pyarrow import csv as pa_csv
from scipy import sparse

from core.storage import storage_write
from projects.models import Item, Label
from weak_supervision.choices import LabelingFunctionKind
from weak_supervision.declarative import ABSTAIN, metadata_field_votes, rule_compile, text_rules_votes
from weak_supervision.models import ExternalVote, LabelModelRun, RunChunk
from weak_supervision.sandbox import SandboxResult, python_votes
from weak_supervision.services.lf_analysis import chunk_analysis
from weak_supervision.services.span_runs import span_chunk_apply

# External votes are read in batches of this many rows.
READ_BATCH = 5_000

IntMatrix = npt.NDArray[np.int8]


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
        item_ids: list[int] = []
        item_texts: list[str] = []
        item_splits: list[str] = []
        item_metadata: list[dict[str, Any]] = []
        for item_id, text, split, metadata in items.values_list("id", "text", "split", "metadata"):
            item_ids.append(item_id)
            item_texts.append(text)
            item_splits.append(split)
            item_metadata.append(metadata or {})
        names, codes = _split_codes(item_splits)
        return ChunkItems(
            ids=np.asarray(item_ids, dtype=np.int64),
            texts=item_texts,
            split_names=names,
            split_codes=codes,
            metadata=item_metadata,
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
    if run.project.is_spans:  # tags per token instead of a vote per item
        return span_chunk_apply(run=run, index=index)
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
