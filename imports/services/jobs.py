"""Import jobs: the tracked, asynchronous form of an import used by the UI, the API and the CLI. A job is
claimed by one worker, beats while it runs, and ends succeeded or failed (all or nothing); the periodic sweep
requeues or fails the jobs whose worker died. The import itself is imports.services.pipeline.items_import."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.jobs import Started, enqueue_on_commit, join_since
from imports.parsing import readers
from imports.parsing.errors import ImportFileError, ImportTooLargeError
from imports.selectors import import_heartbeat_key, import_progress_key
from imports.services.pipeline import (
    ImportOptions,
    ImportResult,
    ProgressCallback,
    eval_only_splits_of,
    import_format_validated,
    import_options_build,
    items_import,
)
from imports.tasks import import_job_run_task
from projects.choices import ImportStatus
from projects.models import ImportJob, Project
from projects.tasks import item_search_refresh_task

__all__ = [  # the pipeline's names are imported from here too, as before it had a module of its own
    "ImportOptions",
    "ImportResult",
    "RecoverResult",
    "import_job_create",
    "import_job_create_or_join",
    "import_job_fail",
    "import_job_run",
    "import_jobs_recover",
    "import_options_build",
    "import_request_size_check",
    "import_upload_size_check",
    "items_import",
]

logger = logging.getLogger(__name__)

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
    name = _import_request_prepare(options=options, upload=upload, source_path=source_path, project=project)
    return _import_job_save(project, created_by, options, name, upload, source_path, enqueue=enqueue)


def import_job_create_or_join(
    *, project: Project, created_by: User | None, options: ImportOptions, upload: UploadedFile[bytes]
) -> Started[ImportJob]:
    """import_job_create for the page and the API: while an import of the same file (name and size) with the
    same options is pending or running in the project (a second click, a second request), answers with it."""
    name = _import_request_prepare(options=options, upload=upload, source_path="", project=project)
    # Looked up before the transaction too: on SQLite a transaction takes the write lock as it begins, which
    # the running import holds until it ends, so the answer to a second click would wait for it.
    if (twin := _import_job_under_way(project, name, options, upload)) is not None:
        return Started(job=twin, created=False)
    with transaction.atomic():
        # NO KEY: a running import's transaction holds a key-share lock on the row (its items point at it).
        Project.objects.select_for_update(no_key=True).filter(pk=project.pk).first()
        if (twin := _import_job_under_way(project, name, options, upload)) is not None:
            return Started(job=twin, created=False)
        return Started(job=_import_job_save(project, created_by, options, name, upload, ""), created=True)


def _import_job_under_way(
    project: Project, name: str, options: ImportOptions, upload: UploadedFile[bytes]
) -> ImportJob | None:
    """The project's pending or running import of a file of this name and size, with these options."""
    wanted = json.loads(json.dumps(options.to_json()))  # as the job's JSON field gives it back
    twins = ImportJob.objects.filter(
        project=project, status__in=(ImportStatus.PENDING, ImportStatus.RUNNING), original_name=name,
        source_path="", created_at__gte=join_since(),
    ).order_by("-id")  # fmt: skip
    for twin in twins:
        if twin.options == wanted and twin.file and twin.file.size == upload.size:
            return twin
    return None


def _import_request_prepare(
    *, options: ImportOptions, upload: UploadedFile[bytes] | None, source_path: str, project: Project
) -> str:
    """Checks the request and completes its options (format, evaluation-only splits); the file's name."""
    if upload is None and not source_path:
        raise ImportFileError("Give a file to import.")
    if upload is not None:
        import_upload_size_check(size=upload.size)
    name = upload.name if upload is not None else Path(source_path).name
    if not options.format:
        options.format = readers.infer_format(Path(source_path) if source_path else Path(name or ""))
    import_format_validated(options, Path(name or "upload"), spans=project.is_spans)
    # The job records what the import will do: the format's default evaluation-only splits, spelled out.
    options.eval_only_splits = eval_only_splits_of(options, options.format)
    return name or ""


def _import_job_save(
    project: Project, created_by: User | None, options: ImportOptions, name: str,
    upload: UploadedFile[bytes] | None, source_path: str, *, enqueue: bool = True,
) -> ImportJob:  # fmt: skip
    with transaction.atomic():
        job = ImportJob(
            project=project, created_by=created_by, format=options.format, original_name=name,
            source_path=source_path, options=options.to_json(), on_conflict=options.on_conflict,
        )  # fmt: skip
        if upload is not None:
            job.file.save(Path(name or "upload").name, upload, save=False)
        job.save()
        if enqueue:
            enqueue_on_commit(import_job_run_task, job.pk)
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
    # The new items' search rows, after the commit, off the import's time (PostgreSQL; see the service).
    enqueue_on_commit(item_search_refresh_task, job.project_id)
    if result.annotations_imported:
        # Several people's labels came in at once: their disagreements (and audit draws) go to review. Imported
        # here, after the import: the review service reaches scikit-learn and pandas (about 180 MB), which an
        # import need not hold while it reads a million rows (tests/core/test_startup.py).
        from oversight.services.review import review_queue_refresh

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
        enqueue_on_commit(import_job_run_task, job_id)
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
        # No column of its own (ImportJob lives in projects): the count sits beside the options that chose it.
        job.options = {**job.options, "result": {
            "evaluation_labels_imported": result.evaluation_labels,
            "duplicates_skipped": result.duplicates_skipped, "duplicate_lines": result.duplicate_lines,
            "seconds": round(result.seconds, 3), "gold_labels_imported": result.gold_labels,
            "tag_scheme": result.tag_scheme,
        }}  # fmt: skip
    job.save()
    cache.delete(import_progress_key(job.pk))
