"""Imports: one service behind the UI upload, the REST API and the CLI. All or nothing."""

from __future__ import annotations

import contextlib
import functools
import logging
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.queries import statistics_refresh
from imports.parsing import archives, readers
from imports.parsing.errors import ImportFileError, ImportTooLargeError
from imports.parsing.rows import FieldMapping, ImportRow, RowBuilder
from imports.selectors import import_heartbeat_key, import_progress_key
from imports.services.writers import WriteCounts, batch_writer_for_connection
from imports.tasks import import_job_run_task
from labeling.models import Annotation
from oversight.services.review import review_queue_refresh
from projects.choices import ImportFormat, ImportStatus, OnConflict
from projects.models import ImportJob, Item, Project
from weak_supervision.models import ExternalVote
from weak_supervision.services import external_labeling_functions_ensure

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, float], None]
ERROR_EMPTY = "The file holds no rows to import."
ERROR_BAD_FORMAT = "Unknown format '{format}'; formats are: {formats}."
ERROR_TOO_LARGE = (
    "The file is {size:,} bytes; imports take files of up to {limit:,} bytes (OVERSIGHT_IMPORT_MAX_UPLOAD_BYTES)."
    " Split it, or import it with the import_items command."
)
ERROR_TIMED_OUT = "The import ran past its time limit and was stopped; nothing was imported. Split the file."
ERROR_INTERRUPTED = "The import was interrupted; nothing was imported. Start it again."
ERROR_WORKER_LOST_REASON = "its worker stopped (died, was killed or ran out of time) without finishing"
ERROR_RETRYING = "Attempt failed ({reason}); it will be tried again. Nothing was imported."
ERROR_TOO_MANY_ATTEMPTS = "The import failed {attempts} times; the last: {reason}. Nothing was imported."
ERROR_NEVER_STARTED = "No worker started the import within a day; nothing was imported. Start it again."
ERROR_REASON_CHARS = 300
# What a multipart request adds around its file (boundaries, the mapping fields): a request this much larger
# than the upload limit is refused from its Content-Length alone.
REQUEST_ENVELOPE_BYTES = 64 * 1024
PROGRESS_TTL_SECONDS = 24 * 3600
# An import of at least this many rows refreshes the planner's statistics of the tables it wrote.
STATISTICS_ROWS = 5000
# The only members of a WRENCH .zip that are extracted; everything else in it stays packed.
WRENCH_MEMBERS = frozenset(
    {"label.json", "readme.txt", *(f"{split}.json" for split in readers.WRENCH_SPLITS)}
)


@dataclass
class ImportOptions:
    """How to read a source: its format, CSV dialect, field mapping and what to do with known ids."""

    format: str = ""
    mapping: FieldMapping = field(default_factory=FieldMapping)
    on_conflict: str = OnConflict.SKIP
    delimiter: str | None = None
    has_header: bool = True
    columns: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format, "mapping": self.mapping.to_json(), "on_conflict": self.on_conflict,
            "delimiter": self.delimiter, "has_header": self.has_header, "columns": self.columns,
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


def _validated_format(options: ImportOptions, source: Path) -> str:
    fmt = options.format or readers.infer_format(source)
    if fmt not in ImportFormat.values:
        raise ImportFileError(ERROR_BAD_FORMAT.format(format=fmt, formats=", ".join(ImportFormat.values)))
    if options.on_conflict not in OnConflict.values:
        raise ImportFileError(f"on_conflict must be one of: {', '.join(OnConflict.values)}.")
    return fmt


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
    batch_size: int = 5000,
    on_progress: ProgressCallback | None = None,
) -> ImportResult:
    """Imports a file or WRENCH folder into a project inside one transaction: every row, or none."""
    fmt = _validated_format(options, source)
    labels = list(project.labels.all())
    label_ids = {label.key: label.pk for label in labels}
    with _open_source(source, fmt, options) as opened, transaction.atomic():
        builder = RowBuilder(
            project_id=project.pk, mapping=opened.mapping, label_keys=[label.key for label in labels],
            label_names={label.key: label.name for label in labels}, multi_label=project.multi_label,
            where=opened.where,
        )  # fmt: skip
        writer = batch_writer_for_connection(
            project=project, on_conflict=options.on_conflict, label_ids=label_ids, import_job=import_job,
            long_format=bool(opened.mapping.annotator_field),
        )  # fmt: skip
        batch: list[ImportRow] = []
        for ordinal, (line, record) in enumerate(opened.records, start=1):
            batch.append(builder.build(line, record, ordinal))
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
            # After the commit (statistics of rows not yet visible would be of the old table).
            transaction.on_commit(lambda: statistics_refresh([Item, Annotation, ExternalVote]))
        return _result(project, writer.counts, len(writer.lf_ids))


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


def _result(project: Project, counts: WriteCounts, lf_count: int) -> ImportResult:
    return ImportResult(
        project_id=project.pk, project_slug=project.slug, rows=counts.rows, items_created=counts.created,
        items_updated=counts.updated, items_skipped=counts.skipped, annotations_imported=counts.annotations,
        votes_imported=counts.votes, labeling_functions=lf_count,
    )  # fmt: skip


# --- Import jobs: the tracked, asynchronous form used by the UI and the API ---------------------------------
def import_upload_size_check(*, size: int | None) -> None:
    """Refuses an upload larger than IMPORT_MAX_UPLOAD_BYTES (HTTP 413). Views call it with the request's
    Content-Length before reading the body; import_job_create calls it with the stored file's size."""
    limit = settings.IMPORT_MAX_UPLOAD_BYTES
    if size is not None and size > limit:
        raise ImportTooLargeError(ERROR_TOO_LARGE.format(size=size, limit=limit))


def import_request_size_check(*, content_length: str | None) -> None:
    """Refuses a request whose declared length is beyond the limit by more than a form's other fields."""
    try:
        length = int(content_length or 0)
    except ValueError:
        return
    if length > settings.IMPORT_MAX_UPLOAD_BYTES + REQUEST_ENVELOPE_BYTES:
        raise ImportTooLargeError(ERROR_TOO_LARGE.format(size=length, limit=settings.IMPORT_MAX_UPLOAD_BYTES))


def import_job_create(
    *,
    project: Project,
    created_by: User | None,
    options: ImportOptions,
    upload: UploadedFile[bytes] | None = None,
    source_path: str = "",
    enqueue: bool = True,
) -> ImportJob:
    """Records an import of an uploaded file (or a local path) and, with `enqueue`, runs it on a worker."""
    if upload is None and not source_path:
        raise ImportFileError("Give a file to import.")
    if upload is not None:
        import_upload_size_check(size=upload.size)
    name = upload.name if upload is not None else Path(source_path).name
    if not options.format:
        options.format = readers.infer_format(Path(source_path) if source_path else Path(name or ""))
    _validated_format(options, Path(name or "upload"))
    with transaction.atomic():
        job = ImportJob(
            project=project, created_by=created_by, format=options.format, original_name=name or "",
            source_path=source_path, options=options.to_json(), on_conflict=options.on_conflict,
        )  # fmt: skip
        if upload is not None:
            job.file.save(Path(name or "upload").name, upload, save=False)
        job.save()
        if enqueue:
            transaction.on_commit(lambda: import_job_run_task.delay(job.pk))
    return job


def import_job_run(*, job: ImportJob, on_progress: ProgressCallback | None = None) -> ImportJob:
    """Runs a pending import (or one whose worker died). Safe to retry: a failed run left nothing behind.

    A bad file fails the job with its line and raises ImportFileError. Running past the task's time limit
    or being interrupted fails it with the reason. Any other crash puts it back to pending for the task to
    retry, or fails it once it has had IMPORT_JOB_MAX_ATTEMPTS runs; the exception is raised again.
    """
    if not _import_job_claim(job):
        return job
    key = import_progress_key(job.pk)

    def progress(rows: int, fraction: float) -> None:
        cache.set(key, {"rows": rows, "fraction": round(fraction, 4)}, PROGRESS_TTL_SECONDS)
        if on_progress:
            on_progress(rows, fraction)

    source = Path(job.source_path) if job.source_path else Path(job.file.path)
    try:
        with _heartbeat(job.pk):
            result = items_import(
                project=job.project, source=source, options=ImportOptions.from_json(job.options),
                import_job=job, on_progress=progress,
            )  # fmt: skip
    except ImportFileError as exc:
        _finish(job, status=ImportStatus.FAILED, error=exc.message, error_line=exc.line)
        raise
    except SoftTimeLimitExceeded:
        _finish(job, status=ImportStatus.FAILED, error=ERROR_TIMED_OUT)
        raise
    except KeyboardInterrupt:
        _finish(job, status=ImportStatus.FAILED, error=ERROR_INTERRUPTED)
        raise
    except BaseException as exc:
        # Unexpected (a lost database connection, a worker shut down, a bug): the transaction rolled back.
        logger.exception("import job %s crashed", job.pk)
        _import_job_crashed(job, exc)
        raise
    _finish(job, status=ImportStatus.SUCCEEDED, result=result)
    if result.annotations_imported:
        # Several people's labels came in at once: their disagreements (and audit draws) go to review.
        review_queue_refresh(project=job.project)
    return job


def _import_job_claim(job: ImportJob) -> bool:
    """Marks the job running for this attempt, unless it is finished or another live attempt holds it.

    The conditional UPDATE is the lock: of two deliveries of the same job (a redelivered message and the
    sweep's), one claims it, and the other returns.
    """
    now = timezone.now()
    claimable = Q(status=ImportStatus.PENDING)
    if not _import_job_alive(job):
        claimable |= Q(status=ImportStatus.RUNNING, attempts=job.attempts)
    claimed = ImportJob.objects.filter(claimable, pk=job.pk).update(
        status=ImportStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    job.refresh_from_db()
    if not claimed:
        return False
    if job.attempts > settings.IMPORT_JOB_MAX_ATTEMPTS:
        _finish(job, status=ImportStatus.FAILED, error=ERROR_TOO_MANY_ATTEMPTS.format(
            attempts=job.attempts - 1, reason=ERROR_WORKER_LOST_REASON))  # fmt: skip
        return False
    cache.set(import_heartbeat_key(job.pk), now.timestamp(), settings.IMPORT_JOB_STALE_SECONDS)
    return True


def _import_job_alive(job: ImportJob, stale_seconds: int | None = None) -> bool:
    """Whether a worker runs the job now: it wrote a heartbeat lately, or the attempt began lately."""
    if cache.get(import_heartbeat_key(job.pk)) is not None:
        return True
    stale = settings.IMPORT_JOB_STALE_SECONDS if stale_seconds is None else stale_seconds
    stale_before = timezone.now() - timedelta(seconds=stale)
    return job.heartbeat_at is not None and job.heartbeat_at >= stale_before


@contextlib.contextmanager
def _heartbeat(job_id: int) -> Iterator[None]:
    """While the import runs, a thread refreshes its heartbeat; a worker that dies stops refreshing it.

    The import's writes are one transaction, invisible until it commits, so the heartbeat lives in the
    (shared) cache, set to expire after IMPORT_JOB_STALE_SECONDS.
    """
    stale = settings.IMPORT_JOB_STALE_SECONDS
    key, stop = import_heartbeat_key(job_id), threading.Event()

    def beat() -> None:
        while not stop.wait(max(stale / 5, 0.2)):
            cache.set(key, time.time(), stale)

    thread = threading.Thread(target=beat, name=f"import-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        cache.delete(key)


def _import_job_crashed(job: ImportJob, exc: BaseException) -> None:
    reason = f"{type(exc).__name__}: {str(exc)[:ERROR_REASON_CHARS]}".rstrip(": ")
    if job.attempts >= settings.IMPORT_JOB_MAX_ATTEMPTS:
        _finish(job, status=ImportStatus.FAILED, error=ERROR_TOO_MANY_ATTEMPTS.format(
            attempts=job.attempts, reason=reason))  # fmt: skip
        return
    job.status, job.error = ImportStatus.PENDING, ERROR_RETRYING.format(reason=reason)
    job.save(update_fields=["status", "error", "updated_at"])
    cache.delete(import_heartbeat_key(job.pk))


def import_job_fail(*, job: ImportJob, reason: str) -> ImportJob:
    """Fails a job that will not be run again (its retries are spent); its import left nothing behind."""
    job.refresh_from_db()
    if not job.is_finished:
        _finish(job, status=ImportStatus.FAILED, error=reason)
    return job


@dataclass
class RecoverResult:
    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def import_jobs_recover(*, stale_seconds: int | None = None) -> RecoverResult:
    """The periodic sweep: a job whose worker died or was stopped never stays running or pending.

    A running job without a heartbeat for IMPORT_JOB_STALE_SECONDS goes back to pending and is enqueued
    again, or is failed once it has had IMPORT_JOB_MAX_ATTEMPTS runs. A pending job that no worker took for
    as long is enqueued again (its message may be lost), and failed after IMPORT_JOB_PENDING_MAX_SECONDS.
    `stale_seconds` replaces IMPORT_JOB_STALE_SECONDS: 0 where no worker can be running (embedded mode as
    it starts: `make run` calls the `import_jobs_recover` command so).
    """
    now, result = timezone.now(), RecoverResult()
    stale = settings.IMPORT_JOB_STALE_SECONDS if stale_seconds is None else stale_seconds
    stale_before = now - timedelta(seconds=stale)
    silent = Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True, updated_at__lt=stale_before)
    for job in ImportJob.objects.filter(silent, status=ImportStatus.RUNNING):
        if _import_job_alive(job, stale):
            continue
        if job.attempts >= settings.IMPORT_JOB_MAX_ATTEMPTS:
            error = ERROR_TOO_MANY_ATTEMPTS.format(attempts=job.attempts, reason=ERROR_WORKER_LOST_REASON)
            if _import_job_move(job, ImportStatus.FAILED, error=error, finished_at=now):
                result.failed.append(job.pk)
        elif _import_job_move(job, ImportStatus.PENDING, error=ERROR_RETRYING.format(
                reason=ERROR_WORKER_LOST_REASON)):  # fmt: skip
            result.requeued.append(job.pk)
    pending_before = now - timedelta(seconds=settings.IMPORT_JOB_PENDING_MAX_SECONDS)
    for job in ImportJob.objects.filter(status=ImportStatus.PENDING, updated_at__lt=stale_before):
        if job.created_at < pending_before:
            if _import_job_move(job, ImportStatus.FAILED, error=ERROR_NEVER_STARTED, finished_at=now):
                result.failed.append(job.pk)
        elif _import_job_move(job, ImportStatus.PENDING, error=job.error):
            result.requeued.append(job.pk)
    for job_id in result.requeued:
        transaction.on_commit(functools.partial(import_job_run_task.delay, job_id))
    return result


def _import_job_move(job: ImportJob, status: str, *, error: str, finished_at: Any = None) -> bool:
    """Moves the job on if nobody touched it since it was read (a worker may claim it meanwhile)."""
    moved = ImportJob.objects.filter(pk=job.pk, status=job.status, attempts=job.attempts,
                                     updated_at=job.updated_at).update(
        status=status, error=error, finished_at=finished_at, updated_at=timezone.now())  # fmt: skip
    if moved and status == ImportStatus.FAILED:
        cache.delete(import_progress_key(job.pk))
    return bool(moved)


def _finish(
    job: ImportJob,
    *,
    status: str,
    result: ImportResult | None = None,
    error: str = "",
    error_line: int | None = None,
) -> None:
    job.status, job.error, job.error_line, job.finished_at = status, error, error_line, timezone.now()
    if result is not None:
        job.rows_total, job.items_created, job.items_updated = (
            result.rows,
            result.items_created,
            result.items_updated,
        )
        job.items_skipped, job.annotations_imported = result.items_skipped, result.annotations_imported
        job.votes_imported = result.votes_imported
    job.save()
    cache.delete(import_progress_key(job.pk))


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
) -> ImportOptions:
    """The one place where the UI form, the API and the CLI turn their inputs into import options."""
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
    )
