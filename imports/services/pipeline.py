"""The import pipeline: read a file or WRENCH folder row by row, check each row, and write them in batches,
all inside one transaction (every row, or none). The job lifecycle around it is in imports.services.jobs."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from core.queries import statistics_refresh
from imports.parsing import readers
from imports.parsing.errors import ImportFileError
from imports.parsing.rows import (
    ON_DUPLICATE_CHOICES,
    ON_DUPLICATE_FAIL,
    FieldMapping,
    ImportRow,
    RowBuilder,
)
from imports.parsing.span_readers import tag_scheme_parse
from imports.services.options import (
    ERROR_EMPTY,
    ERROR_EVAL_ONLY_SPLIT,
    EVAL_ONLY_NONE,
    SPLIT_ORDER,
    STATISTICS_ROWS,
    WRENCH_EVAL_ONLY_SPLITS,
    WRENCH_MEMBERS,
    ImportOptions,
    ImportResult,
    ProgressCallback,
    eval_only_splits_of,
    eval_only_splits_parse,
    wrench_root,
)
from imports.services.span_pipeline import span_items_import
from imports.services.writers import WriteCounts, batch_writer_for_connection
from labeling.models import Annotation, EvaluationLabel, ItemAnswerSummary
from projects.choices import ImportFormat, OnConflict
from projects.models import ImportJob, Item, Project
from weak_supervision.models import ExternalVote
from weak_supervision.services import external_labeling_functions_ensure

__all__ = [  # the options, results and evaluation-only splits live in imports.services.options
    "ERROR_EMPTY",
    "ERROR_EVAL_ONLY_SPLIT",
    "EVAL_ONLY_NONE",
    "SPLIT_ORDER",
    "STATISTICS_ROWS",
    "WRENCH_EVAL_ONLY_SPLITS",
    "WRENCH_MEMBERS",
    "ImportOptions",
    "ImportResult",
    "ProgressCallback",
    "delimiter_parse",
    "eval_only_splits_of",
    "eval_only_splits_parse",
    "import_format_validated",
    "import_options_build",
    "items_import",
]

ERROR_BAD_FORMAT = "Unknown format '{format}'; formats are: {formats}."
ERROR_EVAL_ONLY_LONG_FORMAT = (
    "Evaluation-only labels are one per item, and a file with an annotator field has one row per item and "
    "annotator: leave out the annotator field or the evaluation-only splits."
)
ERROR_EVAL_ONLY_FIELDS = (
    "Evaluation-only splits need the field of each row's split and of its label: map the {missing} field."
)
ERROR_CONLL_NOT_SPANS = (
    "A CoNLL file tags tokens with entity types: import it into a span project (kind spans)."
)
ERROR_CSV_SPANS = (
    "A span project imports JSONL (or a JSON array, or Parquet) with character offsets, CoNLL or a WRENCH "
    "sequence-tagging folder; a CSV cannot hold its spans."
)
ERROR_ON_DUPLICATE = "on_duplicate must be one of: {choices}."
ERROR_DELIMITER = "A delimiter is one character, or one of: {names} (got '{value}')."
# Delimiters by name, for the doors: a tab is hard to type in a form, a URL or a shell.
DELIMITER_ALIASES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "space": " "}
# Batches built ahead of the writer: the reader runs in a thread of its own while the database writes the
# batch before (two cores: one parses, one writes), and at most this many wait in memory.
BATCHES_AHEAD = 2
# Rows per batch: each batch costs a few round trips (ids, one COPY per table), during which the database
# waits on the reader's thread for Python's lock; 10,000 rows of short text are about 8 MB of rows in memory.
BATCH_ROWS = 10_000
# The reader's thread lets go of Python's lock every this many records, so that the writer, back from the
# database, does not wait for the interpreter's switch interval (5 ms) to take its turn.
YIELD_EVERY_RECORDS = 256


def delimiter_parse(value: str | None) -> str:
    """A door's delimiter: one character, or a name (tab, comma, semicolon, pipe, space; also a typed \\t),
    in any case; empty for the format's default. Anything else is a ValidationError."""
    raw = value or ""
    resolved = DELIMITER_ALIASES.get(raw.strip().lower(), raw) if len(raw) > 1 else raw
    if len(resolved) > 1:
        names = ", ".join(name for name in DELIMITER_ALIASES if name != "\\t")
        raise ValidationError(ERROR_DELIMITER.format(names=names, value=raw), code="delimiter")
    return resolved


def import_format_validated(options: ImportOptions, source: Path, *, spans: bool = False) -> str:
    """The source's format (given, or from its name), once the options are known to make sense for it (and
    for the project: `spans` for a span project)."""
    fmt = options.format or readers.infer_format(source)
    if fmt not in ImportFormat.values:
        raise ImportFileError(ERROR_BAD_FORMAT.format(format=fmt, formats=", ".join(ImportFormat.values)))
    if fmt == ImportFormat.CONLL and not spans:
        raise ImportFileError(ERROR_CONLL_NOT_SPANS)
    if fmt == ImportFormat.CSV and spans:
        raise ImportFileError(ERROR_CSV_SPANS)
    tag_scheme_parse(options.tag_scheme)
    if options.on_conflict not in OnConflict.values:
        raise ImportFileError(f"on_conflict must be one of: {', '.join(OnConflict.values)}.")
    if options.on_duplicate not in ON_DUPLICATE_CHOICES:
        raise ImportFileError(ERROR_ON_DUPLICATE.format(choices=", ".join(ON_DUPLICATE_CHOICES)))
    _eval_only_splits_check(options, fmt, spans=spans)
    return fmt


def _eval_only_splits_check(options: ImportOptions, fmt: str, *, spans: bool) -> None:
    try:
        splits = eval_only_splits_parse(options.eval_only_splits)
    except ValidationError as exc:
        raise ImportFileError(exc.messages[0]) from exc
    # A WRENCH folder always has its splits and labels; a CoNLL file its tags (and its name its split).
    if not splits or fmt in (ImportFormat.WRENCH, ImportFormat.CONLL):
        return
    mapping = options.mapping
    if mapping.annotator_field:
        raise ImportFileError(ERROR_EVAL_ONLY_LONG_FORMAT)
    if spans:  # a span record's split and spans have their fields by default (split, spans)
        return
    missing = [
        role for role, name in (("split", mapping.split_field), ("label", mapping.label_field)) if not name
    ]
    if missing:
        raise ImportFileError(ERROR_EVAL_ONLY_FIELDS.format(missing=" and the ".join(missing)))


@dataclass
class _Source:
    records: Iterator[tuple[int, dict[str, Any]]]
    progress: readers.Progress
    where: str
    mapping: FieldMapping
    lf_names: list[str]


@contextlib.contextmanager
def _open_source(source: Path, fmt: str, options: ImportOptions) -> Iterator[_Source]:
    progress = readers.Progress()
    mapping = options.mapping
    if fmt == ImportFormat.WRENCH:
        with wrench_root(source) as root:
            folder = readers.open_wrench_folder(root)
            wrench_mapping = FieldMapping(
                text_field="text", id_field="id", label_field="label", split_field="split",
                votes_field="weak_labels", label_map=mapping.label_map,
            )  # fmt: skip
            yield _Source(readers.read_wrench(folder, progress=progress), progress, "Record", wrench_mapping,
                          folder.lf_names)  # fmt: skip
        return
    if not source.is_file():
        raise ImportFileError(f"'{source}' is not a file.")
    if fmt == ImportFormat.PARQUET:
        yield _Source(readers.read_parquet(source, progress=progress), progress, "Row", mapping, [])
        return
    size = source.stat().st_size
    with source.open("rb") as stream:
        yield _Source(_text_records(stream, size, fmt, options, progress), progress,
                      "Record" if fmt == ImportFormat.JSON else "Line", mapping, [])  # fmt: skip


def _text_records(
    stream: IO[bytes], size: int, fmt: str, options: ImportOptions, progress: readers.Progress
) -> Iterator[tuple[int, dict[str, Any]]]:
    if fmt == ImportFormat.CSV:
        delimiter = options.delimiter or ("\t" if getattr(stream, "name", "").endswith(".tsv") else ",")
        reader_options = readers.ReaderOptions(delimiter=delimiter, has_header=options.has_header,
                                               columns=options.columns)  # fmt: skip
        return readers.read_csv(stream, size=size, options=reader_options, progress=progress)
    if fmt == ImportFormat.JSONL:
        return readers.read_jsonl(stream, size=size, progress=progress)
    return readers.read_json_array(stream, size=size, progress=progress)


def items_import(
    *,
    project: Project,
    source: Path,
    options: ImportOptions,
    import_job: ImportJob | None = None,
    batch_size: int = BATCH_ROWS,
    on_progress: ProgressCallback | None = None,
) -> ImportResult:
    """Imports a file or WRENCH folder into a project inside one transaction: every row, or none. A span
    project's import is imports.services.span_pipeline's."""
    started = time.perf_counter()
    fmt = import_format_validated(options, source, spans=project.is_spans)
    if project.is_spans:
        return span_items_import(project=project, source=source, fmt=fmt, options=options,
                                 import_job=import_job, on_progress=on_progress, started=started)  # fmt: skip
    labels = list(project.labels.all())
    label_ids = {label.key: label.pk for label in labels}
    with _open_source(source, fmt, options) as opened, transaction.atomic():
        builder = RowBuilder(
            mapping=opened.mapping, label_keys=[label.key for label in labels],
            label_names={label.key: label.name for label in labels}, multi_label=project.multi_label,
            where=opened.where, on_duplicate=options.on_duplicate,
        )  # fmt: skip
        writer = batch_writer_for_connection(
            project=project, on_conflict=options.on_conflict, label_ids=label_ids, import_job=import_job,
            long_format=bool(opened.mapping.annotator_field),
            eval_only_splits=frozenset(eval_only_splits_of(options, fmt)),
        )  # fmt: skip
        with writer.session(), _batches_built(opened.records, builder, batch_size) as batches:
            for batch in _announced_ahead(batches, writer.look_ahead):
                full = len(batch) >= batch_size  # the last, partial batch is reported as the end, below
                _flush(writer, batch, builder, opened, project)
                if on_progress and full:
                    on_progress(writer.counts.rows, opened.progress.fraction)
        if writer.counts.rows == 0:
            raise ImportFileError(ERROR_EMPTY)
        if on_progress:
            on_progress(writer.counts.rows, 1.0)
        if writer.counts.rows >= STATISTICS_ROWS:
            # After the commit (statistics of rows not yet visible would be of the old table), of the tables
            # written to.
            written = [Item, Annotation, ItemAnswerSummary, *_written_extras(writer.counts)]
            transaction.on_commit(lambda: statistics_refresh(written))
        result = _result(project, writer.counts, len(writer.lf_ids), builder)
    result.seconds = time.perf_counter() - started
    return result


@contextlib.contextmanager
def _batches_built(
    records: Iterator[tuple[int, dict[str, Any]]], builder: RowBuilder, batch_size: int
) -> Iterator[Iterator[list[ImportRow]]]:
    """The records' rows in batches, read and checked by a thread of its own while the caller writes the batch
    before. The thread touches no database; its error (a bad line) is raised here, in the caller, after the
    batches before it. Leaving early (the writer failed) stops the thread before the source is closed."""
    ready: queue.Queue[list[ImportRow] | BaseException | None] = queue.Queue(maxsize=BATCHES_AHEAD)
    stop = threading.Event()

    def hand_over(item: list[ImportRow] | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def build() -> None:
        try:
            batch: list[ImportRow] = []
            for ordinal, (line, record) in enumerate(records, start=1):
                row = builder.build(line, record, ordinal)
                if row is not None:
                    batch.append(row)
                if not ordinal % YIELD_EVERY_RECORDS:
                    time.sleep(0)
                if len(batch) >= batch_size:
                    if not hand_over(batch):
                        return
                    batch = []
            if batch and not hand_over(batch):
                return
            hand_over(None)
        except BaseException as exc:
            hand_over(exc)

    def batches() -> Iterator[list[ImportRow]]:
        while (item := ready.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item

    thread = threading.Thread(target=build, name="import-rows", daemon=True)
    thread.start()
    try:
        yield batches()
    finally:
        stop.set()
        thread.join()


def _announced_ahead(
    batches: Iterator[list[ImportRow]], announce: Callable[[list[ImportRow]], None]
) -> Iterator[list[ImportRow]]:
    """The batches, each given once the one after it was announced (the last at the end): the writer hears of
    a batch before it writes the one before, and asks for what the batch will need meanwhile
    (PostgresBatchWriter.look_ahead)."""
    held: list[ImportRow] | None = None
    for batch in batches:
        announce(batch)
        if held is not None:
            yield held
        held = batch
    if held is not None:
        yield held


def _written_extras(counts: WriteCounts) -> list[type[ExternalVote] | type[EvaluationLabel]]:
    extras: list[type[ExternalVote] | type[EvaluationLabel]] = []
    if counts.votes:
        extras.append(ExternalVote)
    if counts.evaluation_labels:
        extras.append(EvaluationLabel)
    return extras


def _flush(
    writer: Any, batch: list[ImportRow], builder: RowBuilder, opened: _Source, project: Project
) -> None:
    if not batch:
        return
    if builder.vote_count and not writer.lf_ids:
        names = (
            opened.lf_names
            if len(opened.lf_names) == builder.vote_count
            else [f"lf_{index:02d}" for index in range(builder.vote_count)]
        )
        writer.lf_ids = external_labeling_functions_ensure(
            project=project, names=names, description="Votes imported with the data."
        )
    writer.write(batch)
    batch.clear()


def _result(project: Project, counts: WriteCounts, lf_count: int, builder: RowBuilder) -> ImportResult:
    return ImportResult(
        project_id=project.pk, project_slug=project.slug, rows=counts.rows, items_created=counts.created,
        items_updated=counts.updated, items_skipped=counts.skipped, annotations_imported=counts.annotations,
        votes_imported=counts.votes, labeling_functions=lf_count, evaluation_labels=counts.evaluation_labels,
        duplicates_skipped=builder.duplicates_skipped, duplicate_lines=list(builder.duplicate_lines),
    )  # fmt: skip


def import_options_build(
    *,
    format: str = "",
    on_conflict: str = OnConflict.SKIP,
    text_field: str = "text",
    id_field: str = "",
    label_field: str = "",
    split_field: str = "",
    annotator_field: str = "",
    metadata_fields: list[str] | None = None,
    label_map: dict[str, str] | None = None,
    delimiter: str = "",
    has_header: bool = True,
    columns: list[str] | None = None,
    eval_only_splits: list[str] | None = None,
    on_duplicate: str = ON_DUPLICATE_FAIL,
    tag_scheme: str = "",
) -> ImportOptions:
    """The one place where the UI form, the API and the CLI turn their inputs into import options.

    `eval_only_splits`: as `eval_only_splits_parse` gives it (None: the format's default; []: none).
    `tag_scheme`: CoNLL's, bio or iob1; empty to detect it."""
    return ImportOptions(
        format=format,
        on_conflict=on_conflict,
        mapping=FieldMapping(
            text_field=text_field or "text",
            id_field=id_field or None,
            label_field=label_field or None,
            split_field=split_field or None,
            annotator_field=annotator_field or None,
            metadata_fields=metadata_fields or None,
            label_map=dict(label_map or {}),
        ),
        delimiter=delimiter or None,
        has_header=has_header,
        columns=list(columns or []),
        eval_only_splits=None if eval_only_splits is None else list(eval_only_splits),
        on_duplicate=on_duplicate or ON_DUPLICATE_FAIL,
        tag_scheme=tag_scheme_parse(tag_scheme),
    )
