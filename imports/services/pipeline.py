"""The import pipeline: read a file or WRENCH folder row by row, check each row, and write them in batches,
all inside one transaction (every row, or none). The job lifecycle around it is in imports.services.jobs."""

from __future__ import annotations

import contextlib
import queue
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from core.queries import statistics_refresh
from imports.parsing import archives, readers
from imports.parsing.errors import ImportFileError
from imports.parsing.rows import (
    ON_DUPLICATE_CHOICES,
    ON_DUPLICATE_FAIL,
    SPLIT_ALIASES,
    FieldMapping,
    ImportRow,
    RowBuilder,
)
from imports.services.writers import WriteCounts, batch_writer_for_connection
from labeling.models import Annotation, EvaluationLabel
from projects.choices import ImportFormat, OnConflict, Split
from projects.models import ImportJob, Item, Project
from weak_supervision.models import ExternalVote
from weak_supervision.services import external_labeling_functions_ensure

ProgressCallback = Callable[[int, float], None]
ERROR_EMPTY = "The file holds no rows to import."
ERROR_BAD_FORMAT = "Unknown format '{format}'; formats are: {formats}."
# An import of at least this many rows refreshes the planner's statistics of the tables it wrote.
STATISTICS_ROWS = 5000
# Evaluation-only splits: their labels only score (EvaluationLabel), never train or choose anything. A WRENCH
# folder is a benchmark: its train and test labels are truth to score against, its valid labels the usable
# gold (WRENCH's own protocol). `none` keeps every split's labels as imported annotations.
WRENCH_EVAL_ONLY_SPLITS = (Split.TRAIN.value, Split.TEST.value)
EVAL_ONLY_NONE = "none"
SPLIT_ORDER = (Split.TRAIN.value, Split.VALID.value, Split.TEST.value)
ERROR_EVAL_ONLY_SPLIT = (
    "Unknown split '{split}' in the evaluation-only splits; give train, valid, test, or none."
)
ERROR_EVAL_ONLY_LONG_FORMAT = (
    "Evaluation-only labels are one per item, and a file with an annotator field has one row per item and "
    "annotator: leave out the annotator field or the evaluation-only splits."
)
ERROR_EVAL_ONLY_FIELDS = (
    "Evaluation-only splits need the field of each row's split and of its label: map the {missing} field."
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
# The only members of a WRENCH .zip that are extracted; everything else in it stays packed.
WRENCH_MEMBERS = frozenset(
    {"label.json", "readme.txt", *(f"{split}.json" for split in readers.WRENCH_SPLITS)}
)


@dataclass
class ImportOptions:
    """How to read a source: its format, CSV dialect, field mapping, what to do with known ids, and which
    splits' labels only score (`eval_only_splits`: None is the format's default, see `eval_only_splits_of`)."""

    format: str = ""
    mapping: FieldMapping = field(default_factory=FieldMapping)
    on_conflict: str = OnConflict.SKIP
    delimiter: str | None = None
    has_header: bool = True
    columns: list[str] = field(default_factory=list)
    eval_only_splits: list[str] | None = None
    on_duplicate: str = ON_DUPLICATE_FAIL

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format, "mapping": self.mapping.to_json(), "on_conflict": self.on_conflict,
            "delimiter": self.delimiter, "has_header": self.has_header, "columns": self.columns,
            "eval_only_splits": self.eval_only_splits, "on_duplicate": self.on_duplicate,
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImportOptions:
        return cls(
            format=data.get("format", ""),
            mapping=FieldMapping(**data.get("mapping", {})),
            on_conflict=data.get("on_conflict", OnConflict.SKIP),
            delimiter=data.get("delimiter"),
            has_header=data.get("has_header", True),
            columns=list(data.get("columns", [])),
            eval_only_splits=data.get("eval_only_splits"),
            on_duplicate=data.get("on_duplicate", ON_DUPLICATE_FAIL),
        )


@dataclass
class ImportResult:
    project_id: int
    project_slug: str
    rows: int
    items_created: int
    items_updated: int
    items_skipped: int
    annotations_imported: int
    votes_imported: int
    labeling_functions: int
    evaluation_labels: int = 0
    # Rows skipped for repeating an earlier row's id (on_duplicate=skip): how many, and the first lines.
    duplicates_skipped: int = 0
    duplicate_lines: list[int] = field(default_factory=list)
    # The import's own wall-clock time: read, check, write and commit.
    seconds: float = 0.0


def delimiter_parse(value: str | None) -> str:
    """A door's delimiter: one character, or a name (tab, comma, semicolon, pipe, space; also a typed \\t),
    in any case; empty for the format's default. Anything else is a ValidationError."""
    raw = value or ""
    resolved = DELIMITER_ALIASES.get(raw.strip().lower(), raw) if len(raw) > 1 else raw
    if len(resolved) > 1:
        names = ", ".join(name for name in DELIMITER_ALIASES if name != "\\t")
        raise ValidationError(ERROR_DELIMITER.format(names=names, value=raw), code="delimiter")
    return resolved


def eval_only_splits_parse(value: str | list[str] | tuple[str, ...] | None) -> list[str] | None:
    """The evaluation-only splits as a door gives them: None when left out or empty (the format's default),
    [] for `none`, else split names (comma-separated in a string; `dev` or `validation` read as valid),
    deduplicated in train, valid, test order. An unknown name is a ValidationError naming it."""
    if value is None:
        return None
    parts = value.split(",") if isinstance(value, str) else list(value)
    names = [str(part).strip().lower() for part in parts if str(part).strip()]
    if isinstance(value, str) and not names:
        return None
    if names == [EVAL_ONLY_NONE]:
        return []
    splits: set[str] = set()
    for name in names:
        split = SPLIT_ALIASES.get(name)
        if not split:
            raise ValidationError(ERROR_EVAL_ONLY_SPLIT.format(split=name), code="eval_only_splits")
        splits.add(split)
    return [split for split in SPLIT_ORDER if split in splits]


def eval_only_splits_of(options: ImportOptions, fmt: str) -> list[str]:
    """The splits whose labels only score: those the options name, else the format's default (a WRENCH
    folder's train and test, no split of any other format)."""
    named = eval_only_splits_parse(options.eval_only_splits)
    if named is not None:
        return named
    return list(WRENCH_EVAL_ONLY_SPLITS) if fmt == ImportFormat.WRENCH else []


def import_format_validated(options: ImportOptions, source: Path) -> str:
    """The source's format (given, or from its name), once the options are known to make sense for it."""
    fmt = options.format or readers.infer_format(source)
    if fmt not in ImportFormat.values:
        raise ImportFileError(ERROR_BAD_FORMAT.format(format=fmt, formats=", ".join(ImportFormat.values)))
    if options.on_conflict not in OnConflict.values:
        raise ImportFileError(f"on_conflict must be one of: {', '.join(OnConflict.values)}.")
    if options.on_duplicate not in ON_DUPLICATE_CHOICES:
        raise ImportFileError(ERROR_ON_DUPLICATE.format(choices=", ".join(ON_DUPLICATE_CHOICES)))
    _eval_only_splits_check(options, fmt)
    return fmt


def _eval_only_splits_check(options: ImportOptions, fmt: str) -> None:
    try:
        splits = eval_only_splits_parse(options.eval_only_splits)
    except ValidationError as exc:
        raise ImportFileError(exc.messages[0]) from exc
    if not splits or fmt == ImportFormat.WRENCH:  # a WRENCH folder always has its splits and labels
        return
    mapping = options.mapping
    if mapping.annotator_field:
        raise ImportFileError(ERROR_EVAL_ONLY_LONG_FORMAT)
    missing = [
        role for role, name in (("split", mapping.split_field), ("label", mapping.label_field)) if not name
    ]
    if missing:
        raise ImportFileError(ERROR_EVAL_ONLY_FIELDS.format(missing=" and the ".join(missing)))


@contextlib.contextmanager
def _wrench_root(source: Path) -> Iterator[Path]:
    """A WRENCH dataset is a folder; an upload brings it as a zip, unpacked here for the import's lifetime."""
    if source.is_dir():
        yield source
        return
    if not zipfile.is_zipfile(source):
        raise ImportFileError(archives.ERROR_NOT_ZIP)
    scratch = Path(tempfile.mkdtemp(prefix="oversight-wrench-"))
    limits = archives.ZipLimits(
        max_entries=settings.IMPORT_ZIP_MAX_ENTRIES, max_bytes=settings.IMPORT_ZIP_MAX_BYTES,
        max_ratio=settings.IMPORT_ZIP_MAX_RATIO,
    )  # fmt: skip
    try:
        archives.zip_extract_checked(source, scratch, limits=limits, wanted=WRENCH_MEMBERS)
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


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
        with _wrench_root(source) as root:
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
    """Imports a file or WRENCH folder into a project inside one transaction: every row, or none."""
    started = time.perf_counter()
    fmt = import_format_validated(options, source)
    labels = list(project.labels.all())
    label_ids = {label.key: label.pk for label in labels}
    with _open_source(source, fmt, options) as opened, transaction.atomic():
        builder = RowBuilder(
            project_id=project.pk, mapping=opened.mapping, label_keys=[label.key for label in labels],
            label_names={label.key: label.name for label in labels}, multi_label=project.multi_label,
            where=opened.where, on_duplicate=options.on_duplicate,
        )  # fmt: skip
        writer = batch_writer_for_connection(
            project=project, on_conflict=options.on_conflict, label_ids=label_ids, import_job=import_job,
            long_format=bool(opened.mapping.annotator_field),
            eval_only_splits=frozenset(eval_only_splits_of(options, fmt)),
        )  # fmt: skip
        with _batches_built(opened.records, builder, batch_size) as batches:
            for batch in batches:
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
            written = [Item, Annotation, *_written_extras(writer.counts)]
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
) -> ImportOptions:
    """The one place where the UI form, the API and the CLI turn their inputs into import options.

    `eval_only_splits`: as `eval_only_splits_parse` gives it (None: the format's default; []: none)."""
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
    )
