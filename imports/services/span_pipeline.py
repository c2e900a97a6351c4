"""The import of a span project: a WRENCH sequence-tagging folder (or its zip), a CoNLL file, or records with
character offsets (JSONL, a JSON array, Parquet), read record by record, checked, and written in batches inside
one transaction: every row, or none, and an error names its line (or record).

What the spans become follows the item import's options (imports.services.span_writers): an evaluation-only
split's spans are EvaluationLabels (a WRENCH folder's train and test by default); a WRENCH folder's other
splits (valid) become known answers (GoldLabel, source `known`); every other format's spans are imported
annotations. Each WRENCH LF (named by meta.json's `lf`) becomes an external labeling function, and its spans in
an item an ExternalSpanVote.

Records with offsets: `{"id", "text", "spans": [{"start", "end", "label", "text"?}], "split"?, "annotator"?}`.
The id, split and annotator fields are used where the first record has them (or where the mapping names
others); the spans field is the mapping's label field, else `spans`; absent or null spans mean no
pre-annotation, an empty list the answer "no entities".
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from django.db import transaction

from core.queries import statistics_refresh
from imports.parsing import readers, span_readers
from imports.parsing.errors import ImportFileError
from imports.parsing.rows import FieldMapping
from imports.services.options import (
    ERROR_EMPTY,
    STATISTICS_ROWS,
    ImportOptions,
    ImportResult,
    ProgressCallback,
    eval_only_splits_of,
    wrench_root,
)
from imports.services.span_rows import SPANS_FIELD, SpanRow, SpanRowBuilder
from imports.services.span_writers import SpanBatchWriter
from labeling.models import Annotation, EvaluationLabel, GoldLabel, ItemAnswerSummary
from projects.choices import ImportFormat
from projects.models import ImportJob, Item, Project
from weak_supervision.models import ExternalSpanVote
from weak_supervision.services import external_labeling_functions_ensure

# Rows per batch: a few INSERTs per batch and table; 2,000 sentences with their LF spans are a few MB.
SPAN_BATCH_ROWS = 2_000
LF_DESCRIPTION = "Spans imported with the data."
ERROR_CONLL_NO_SPLIT = (
    "Evaluation-only splits need each sentence's split, and a CoNLL file's split comes from its name (train.conll, "
    "dev.conll, test.conll): '{name}' names none. Rename the file, or leave out the evaluation-only splits."
)
ERROR_EVAL_ONLY_LONG_FORMAT = (
    "Evaluation-only spans are one answer per item, and these records name an annotator (one row per item and "
    "annotator): leave out the annotator field or the evaluation-only splits."
)


@dataclass
class _SpanSource:
    records: Iterator[tuple[int, dict[str, Any]]]
    progress: readers.Progress
    where: str
    mapping: FieldMapping
    tagged: bool
    spans_field: str = SPANS_FIELD
    lf_names: list[str] | None = None
    detector: span_readers.SchemeDetector | None = None


def span_items_import(
    *,
    project: Project,
    source: Path,
    fmt: str,
    options: ImportOptions,
    import_job: ImportJob | None = None,
    on_progress: ProgressCallback | None = None,
    started: float | None = None,
    batch_size: int = SPAN_BATCH_ROWS,
) -> ImportResult:
    """Imports a span project's file or WRENCH folder (`fmt` already validated) in one transaction."""
    started = time.perf_counter() if started is None else started
    eval_only = frozenset(eval_only_splits_of(options, fmt))
    scheme = span_readers.tag_scheme_parse(options.tag_scheme)
    # A CoNLL file's split comes from its name: the name it was uploaded with, where there was an upload.
    name = Path(import_job.original_name) if import_job is not None and import_job.original_name else source
    if fmt == ImportFormat.CONLL and eval_only and not span_readers.split_of_name(name):
        raise ImportFileError(ERROR_CONLL_NO_SPLIT.format(name=name.name))
    with _open(source, fmt, options, name) as opened, transaction.atomic():
        long_format = bool(opened.mapping.annotator_field)
        if long_format and eval_only:
            raise ImportFileError(ERROR_EVAL_ONLY_LONG_FORMAT)
        builder = SpanRowBuilder(
            project=project, mapping=opened.mapping, tagged=opened.tagged, where=opened.where,
            on_duplicate=options.on_duplicate, spans_field=opened.spans_field, scheme=scheme or "BIO",
        )  # fmt: skip
        writer = SpanBatchWriter(
            project=project, on_conflict=options.on_conflict, import_job=import_job, long_format=long_format,
            eval_only_splits=eval_only, gold_known=fmt == ImportFormat.WRENCH,
        )  # fmt: skip
        batch: list[SpanRow] = []
        for ordinal, (line, record) in enumerate(opened.records, start=1):
            row = builder.build(line, record, ordinal)
            if row is not None:
                batch.append(row)
            if len(batch) >= batch_size:
                _flush(writer, batch, builder, opened, project)
                if on_progress:
                    on_progress(writer.counts.rows, opened.progress.fraction)
        _flush(writer, batch, builder, opened, project)
        if writer.counts.rows == 0:
            raise ImportFileError(ERROR_EMPTY)
        if on_progress:
            on_progress(writer.counts.rows, 1.0)
        if writer.counts.rows >= STATISTICS_ROWS:
            written = [Item, Annotation, ItemAnswerSummary, EvaluationLabel, GoldLabel, ExternalSpanVote]
            transaction.on_commit(lambda: statistics_refresh(written))
    counts = writer.counts
    detected = opened.detector.scheme if opened.detector is not None and not scheme else scheme
    return ImportResult(
        project_id=project.pk, project_slug=project.slug, rows=counts.rows, items_created=counts.created,
        items_updated=counts.updated, items_skipped=counts.skipped, annotations_imported=counts.annotations,
        votes_imported=counts.votes, labeling_functions=len(writer.lf_ids),
        evaluation_labels=counts.evaluation_labels, duplicates_skipped=builder.duplicates_skipped,
        duplicate_lines=list(builder.duplicate_lines), gold_labels=counts.gold_labels,
        tag_scheme=detected if fmt == ImportFormat.CONLL else "", seconds=time.perf_counter() - started,
    )  # fmt: skip


def _flush(
    writer: SpanBatchWriter, batch: list[SpanRow], builder: SpanRowBuilder, opened: _SpanSource,
    project: Project,
) -> None:  # fmt: skip
    if not batch:
        return
    if builder.lf_count and not writer.lf_ids:
        names = opened.lf_names or []
        if len(names) != builder.lf_count:
            names = [f"lf_{index:02d}" for index in range(builder.lf_count)]
        writer.lf_ids = external_labeling_functions_ensure(project=project, names=names,
                                                           description=LF_DESCRIPTION)  # fmt: skip
    writer.write(batch)
    batch.clear()


@contextlib.contextmanager
def _open(source: Path, fmt: str, options: ImportOptions, name: Path) -> Iterator[_SpanSource]:
    progress = readers.Progress()
    tagged = FieldMapping(text_field="text", id_field="id", split_field="split")
    if fmt == ImportFormat.WRENCH:
        with wrench_root(source) as root:
            folder = span_readers.open_wrench_sequence_folder(root)
            records = span_readers.read_wrench_sequence(folder, progress=progress)
            yield _SpanSource(records, progress, "Record", tagged, tagged=True, lf_names=folder.lf_names)
        return
    if not source.is_file():
        raise ImportFileError(f"'{source}' is not a file.")
    if fmt == ImportFormat.PARQUET:
        yield _offsets_source(readers.read_parquet(source, progress=progress), progress, "Row", options)
        return
    size = source.stat().st_size
    with source.open("rb") as stream:
        if fmt == ImportFormat.CONLL:
            detector = span_readers.SchemeDetector()
            records = span_readers.read_conll(stream, size=size, progress=progress,
                                              split=span_readers.split_of_name(name), detector=detector)  # fmt: skip
            yield _SpanSource(records, progress, "Line", tagged, tagged=True, detector=detector)
        elif fmt == ImportFormat.JSONL:
            yield _offsets_source(readers.read_jsonl(stream, size=size, progress=progress), progress, "Line",
                                  options)  # fmt: skip
        else:
            yield _offsets_source(readers.read_json_array(stream, size=size, progress=progress), progress,
                                  "Record", options)  # fmt: skip


def _offsets_source(
    records: Iterator[tuple[int, dict[str, Any]]],
    progress: readers.Progress,
    where: str,
    options: ImportOptions,
) -> _SpanSource:
    """Records with character offsets: the fields the mapping leaves out default to those the first record
    has (id, split, annotator)."""
    first = next(records, None)
    mapping = options.mapping
    present = first[1] if first is not None else {}
    item_mapping = replace(
        mapping, label_field=None, votes_field=None,
        id_field=mapping.id_field or ("id" if "id" in present else None),
        split_field=mapping.split_field or ("split" if "split" in present else None),
        annotator_field=mapping.annotator_field or ("annotator" if "annotator" in present else None),
    )  # fmt: skip
    chained = itertools.chain([first] if first is not None else [], records)
    return _SpanSource(chained, progress, where, item_mapping, tagged=False,
                       spans_field=mapping.label_field or SPANS_FIELD)  # fmt: skip
