"""Snapshots: immutable, numbered versions of a project's labeled data, written as files with a manifest.

`snapshot_create` validates the request and records a pending snapshot; a worker builds it
(`snapshot_build`): it streams the rows (datasets.selectors.snapshot_rows), gives new items their split for
good, leaves out the suspected label errors if asked (counting them either way), writes every format into a
local scratch folder while hashing the content, picks the few-shot sets, checksums every file, and only then
copies them into storage. The snapshot gets its version number in the
last transaction, when every file is in place: a failure at any step deletes what was copied and leaves a
failed snapshot without a number or files, and a retry starts again from nothing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import tempfile
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core.jobs import Started, enqueue_on_commit, join_since
from datasets import tasks
from datasets.choices import ExportFormat, LabelPolicy, SnapshotStatus, Trigger
from datasets.models import ExportSchedule, Snapshot
from datasets.selectors import (
    ROW_FIELDS,
    InferenceSource,
    RowChunk,
    RowSpec,
    inference_source_get,
    row_spec_build,
    snapshot_rows,
    snapshot_run_for,
    snapshot_suspects_get,
)
from datasets.services.fewshot import FewshotPool, fewshot_rows
from datasets.services.manifests import SpanManifest, Tally, dataset_card, manifest_build
from datasets.services.snapshot_requests import (
    DEFAULT_FORMATS,
    ERROR_CONFIDENCE,
    ERROR_FEWSHOT,
    ERROR_FILTER_LABELS,
    ERROR_FILTER_SPLITS,
    ERROR_FORMATS,
    ERROR_NO_INFERENCE,
    ERROR_POLICY,
    MAX_FEWSHOT_K,
    SnapshotRequest,
    snapshot_request_validate,
)
from datasets.services.span_snapshots import span_snapshot_files_write
from datasets.services.span_writers import SPAN_SCHEMA, SPAN_SCHEMA_DESCRIPTION
from datasets.services.splits import SplitAssigner
from datasets.services.writers import (
    SCHEMA,
    Sink,
    chunk_table,
    fewshot_write,
    file_digest,
    jsonl_lines,
    sink_for,
)
from projects.models import Project
from weak_supervision.models import LabelModelRun

__all__ = [  # the request's names live in snapshot_requests, and are imported from here as before
    "DEFAULT_FORMATS",
    "ERROR_CONFIDENCE",
    "ERROR_FEWSHOT",
    "ERROR_FILTER_LABELS",
    "ERROR_FILTER_SPLITS",
    "ERROR_FORMATS",
    "ERROR_INFERENCE_CHANGED",
    "ERROR_NO_INFERENCE",
    "ERROR_NO_ROWS",
    "ERROR_POLICY",
    "MAX_FEWSHOT_K",
    "SnapshotRequest",
    "snapshot_build",
    "snapshot_create",
    "snapshot_create_or_join",
    "snapshot_delete",
    "snapshot_request_validate",
    "snapshot_retention_apply",
]

logger = logging.getLogger("oversight.datasets")

# A snapshot in these is under way: the same request again answers with it.
ACTIVE_STATUSES = (SnapshotStatus.PENDING, SnapshotStatus.RUNNING)
ERROR_NO_ROWS = "Nothing to export: no item of the project has a label under this policy and these filters."
ERROR_INFERENCE_CHANGED = (
    "Truth inference finished a new run while this snapshot was being built; make the snapshot again."
)


def snapshot_create(
    *,
    project: Project,
    user: User | None,
    request: SnapshotRequest,
    trigger: str = Trigger.UI,
    schedule: ExportSchedule | None = None,
    enqueue: bool = True,
) -> Snapshot:
    """Records a pending snapshot and hands it to a worker once the transaction commits."""
    checked = snapshot_request_validate(project=project, request=request)
    with transaction.atomic():
        snapshot = Snapshot.objects.create(
            project=project, created_by=user, trigger=trigger, schedule=schedule, policy=checked.policy,
            min_confidence=checked.min_confidence, formats=checked.formats,
            filters={"splits": checked.splits, "labels": checked.labels}, fewshot_k=checked.fewshot_k,
            exclude_label_errors=checked.exclude_label_errors,
        )  # fmt: skip
        if enqueue:
            enqueue_on_commit(tasks.snapshot_build_task, snapshot.pk)
    return snapshot


def snapshot_create_or_join(
    *, project: Project, user: User | None, request: SnapshotRequest, trigger: str = Trigger.UI
) -> Started[Snapshot]:
    """snapshot_create for the page and the API: while a snapshot of the same request is pending or being
    built (a second click, a second request), answers with that one. The project's row lock makes two
    starts take turns; a different request is a different snapshot, and is made."""
    checked = snapshot_request_validate(project=project, request=request)
    # Looked up before the transaction too: on SQLite a transaction takes the write lock as it begins, and a
    # job in progress may hold it (an import), so the answer to a second click would wait for it.
    if (twin := _snapshot_under_way(project, checked)) is not None:
        return Started(job=twin, created=False)
    with transaction.atomic():
        # NO KEY: an import's long transaction holds a key-share lock on the row (its items point at it).
        Project.objects.select_for_update(no_key=True).filter(pk=project.pk).first()
        twin = _snapshot_under_way(project, checked)
        if twin is not None:
            return Started(job=twin, created=False)
        snapshot = snapshot_create(project=project, user=user, request=checked, trigger=trigger)
    return Started(job=snapshot, created=True)


def _snapshot_under_way(project: Project, checked: SnapshotRequest) -> Snapshot | None:
    """The project's pending or building snapshot of this very request, started from a page or the API."""
    wanted = (checked.policy, checked.min_confidence, checked.formats,
              {"splits": checked.splits, "labels": checked.labels}, checked.fewshot_k,
              checked.exclude_label_errors)  # fmt: skip
    candidates = Snapshot.objects.filter(
        project=project, status__in=ACTIVE_STATUSES, schedule__isnull=True, created_at__gte=join_since()
    ).order_by("-created_at", "-id")
    for snapshot in candidates:
        if (snapshot.policy, snapshot.min_confidence, snapshot.formats, snapshot.filters,
                snapshot.fewshot_k, snapshot.exclude_label_errors) == wanted:  # fmt: skip
            return snapshot
    return None


def _keep(chunk: RowChunk, request: SnapshotRequest, suspects: frozenset[int]) -> tuple[RowChunk, int]:
    """The rows of the chunk that pass the filters (a split among `request.splits`, a label among
    `request.labels`), less the suspects when the request leaves them out; and how many of the rows that pass
    the filters are suspects."""
    splits, wanted_labels = request.splits, set(request.labels)
    rows: list[int] | range = range(len(chunk))
    if splits or wanted_labels:
        rows = [
            index
            for index, (split, row_labels) in enumerate(zip(chunk.split, chunk.labels, strict=True))
            if (not splits or split in splits)
            and (not wanted_labels or wanted_labels.intersection(row_labels))
        ]
    flagged = sum(1 for index in rows if chunk.item_id[index] in suspects) if suspects else 0
    if flagged and request.exclude_label_errors:
        rows = [index for index in rows if chunk.item_id[index] not in suspects]
    if len(rows) == len(chunk):
        return chunk, flagged
    kept = RowChunk()
    for name in ROW_FIELDS:
        column = getattr(chunk, name)
        setattr(kept, name, [column[index] for index in rows])
    return kept, flagged


def _upload(snapshot: Snapshot, folder: Path, names: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """Copies the finished, checksummed files into storage and checks each arrived whole."""
    entries = []
    for fmt, name in names:
        size, sha256 = file_digest(folder / name)
        storage_name = f"{snapshot.storage_prefix}/{name}"
        with (folder / name).open("rb") as handle:
            stored = default_storage.save(storage_name, File(handle, name=name))
        if default_storage.size(stored) != size:
            raise OSError(
                f"{name}: {default_storage.size(stored)} bytes arrived in storage, {size} were written."
            )
        entries.append({"format": fmt, "name": name, "storage_name": stored, "bytes": size, "sha256": sha256,
                        "path": _absolute(stored)})  # fmt: skip
    return entries


def _absolute(storage_name: str) -> str:
    try:
        return str(default_storage.path(storage_name))
    except NotImplementedError:  # remote storage (S3): its URL instead
        return str(default_storage.url(storage_name))


def _remove_stored(snapshot: Snapshot) -> None:
    """Deletes whatever the snapshot has in storage, folders included (where the storage has folders)."""
    if snapshot.storage_prefix:
        _remove_tree(snapshot.storage_prefix)


def _remove_tree(prefix: str) -> None:
    try:
        folders, files = default_storage.listdir(prefix)
    except (FileNotFoundError, NotImplementedError):
        return
    for name in files:
        default_storage.delete(f"{prefix}/{name}")
    for folder in folders:
        _remove_tree(f"{prefix}/{folder}")
    # Object stores have no folders to remove; a local folder may hold something else and stays.
    with contextlib.suppress(NotImplementedError, OSError):
        Path(default_storage.path(prefix)).rmdir()


def snapshot_build(*, snapshot_id: int) -> Snapshot:
    """Builds a pending (or failed, on a retry) snapshot; a finished one is returned as it is."""
    snapshot = Snapshot.objects.select_related("project", "schedule").get(pk=snapshot_id)
    if snapshot.status in (SnapshotStatus.SUCCEEDED, SnapshotStatus.SKIPPED):
        return snapshot
    snapshot.status, snapshot.started_at, snapshot.error = SnapshotStatus.RUNNING, timezone.now(), ""
    snapshot.storage_prefix = f"snapshots/{snapshot.project_id}/{snapshot.pk}"
    snapshot.save(update_fields=["status", "started_at", "error", "storage_prefix", "updated_at"])
    _remove_stored(snapshot)  # a killed earlier attempt may have left files behind
    try:
        with tempfile.TemporaryDirectory(prefix="oversight-snapshot-") as scratch:
            return _build(snapshot, Path(scratch))
    except ValidationError as exc:  # nothing to export: a clear message, no retry
        return _fail(snapshot, " ".join(exc.messages))
    except Exception:
        _fail(snapshot, traceback.format_exc()[-4000:])
        raise  # the task's retry policy decides; a retry starts from nothing


def _fail(snapshot: Snapshot, error: str) -> Snapshot:
    _remove_stored(snapshot)
    now = timezone.now()
    Snapshot.objects.filter(pk=snapshot.pk).update(status=SnapshotStatus.FAILED, error=error, finished_at=now)
    if snapshot.schedule_id:
        ExportSchedule.objects.filter(pk=snapshot.schedule_id).update(
            last_run_at=now, last_status=SnapshotStatus.FAILED, last_error=error[-2000:]
        )
    snapshot.refresh_from_db()
    return snapshot


def _build(snapshot: Snapshot, folder: Path) -> Snapshot:
    project = snapshot.project
    request = SnapshotRequest(
        policy=snapshot.policy, min_confidence=snapshot.min_confidence, formats=list(snapshot.formats),
        splits=list(snapshot.filters.get("splits", [])), labels=list(snapshot.filters.get("labels", [])),
        fewshot_k=list(snapshot.fewshot_k), exclude_label_errors=snapshot.exclude_label_errors,
    )  # fmt: skip
    if project.is_spans:
        return _build_spans(snapshot, request, folder)
    run, spec = _sources(project, request)
    suspects = snapshot_suspects_get(project=project)
    header = json.dumps({"labels": spec.label_keys, "multi_label": spec.multi_label, "schema": SCHEMA.names})
    tally = Tally(header)
    assigner = SplitAssigner(project=project)
    pool = FewshotPool()
    sinks: list[Sink] = [sink_for(fmt, folder, card=dataset_card(project)) for fmt in request.formats]
    for chunk in snapshot_rows(project=project, spec=spec):
        assigner.assign(chunk)
        kept, flagged = _keep(chunk, request, suspects.item_ids)
        tally.suspects(flagged, excluded=request.exclude_label_errors)
        if not len(kept):
            continue
        tally.add(kept)
        lines = jsonl_lines(kept) if ExportFormat.JSONL in request.formats else []
        table = chunk_table(kept)
        for sink in sinks:
            sink.write(kept, table, lines)
        pool.add(kept)
    names = [name for sink in sinks for name in sink.close()]
    _inference_unchanged(project, spec.inference)
    assigner.persist()
    if not tally.rows:
        raise ValidationError(ERROR_NO_ROWS, code="empty")
    content_hash = tally.digest.hexdigest()
    if snapshot.schedule_id and _unchanged(snapshot, content_hash):
        return _skip(snapshot, content_hash)
    names += [fewshot_write(folder, k, fewshot_rows(pool.support_set(k))) for k in request.fewshot_k]
    entries = _upload(snapshot, folder, names)
    manifest = manifest_build(
        snapshot, request, spec.label_keys, tally, run, entries, inference=spec.inference, suspects=suspects
    )
    return _finish(snapshot, manifest, content_hash, tally.rows, run)


def _build_spans(snapshot: Snapshot, request: SnapshotRequest, folder: Path) -> Snapshot:
    """A span project's snapshot (datasets.services.span_snapshots): its rows, files and manifest; no few-shot
    sets or label-error exclusions (both are about whole-item labels)."""
    project = snapshot.project
    run = (
        snapshot_run_for(project=project)
        if request.policy in (LabelPolicy.GOLD_WEAK, LabelPolicy.SOFT)
        else None
    )
    written = span_snapshot_files_write(project=project, request=request, folder=folder, run=run)
    if not written.tally.rows:
        raise ValidationError(ERROR_NO_ROWS, code="empty")
    content_hash = written.tally.digest.hexdigest()
    if snapshot.schedule_id and _unchanged(snapshot, content_hash):
        return _skip(snapshot, content_hash)
    entries = _upload(snapshot, folder, written.names)
    manifest = manifest_build(
        snapshot, request, written.label_keys, written.tally, run, entries,
        spans=SpanManifest(schema=SPAN_SCHEMA, descriptions=SPAN_SCHEMA_DESCRIPTION, ner_tags=written.tag_names),
    )  # fmt: skip
    return _finish(snapshot, manifest, content_hash, written.tally.rows, run)


def _sources(project: Project, request: SnapshotRequest) -> tuple[LabelModelRun | None, RowSpec]:
    """Where the labels beyond gold come from: the latest label model run (gold+weak, soft) or the latest
    inference run (inferred; there may be none any more since the request was checked)."""
    weak = request.policy in (LabelPolicy.GOLD_WEAK, LabelPolicy.SOFT)
    run = snapshot_run_for(project=project) if weak else None
    inference = None
    if request.policy == LabelPolicy.INFERRED:
        inference = inference_source_get(project=project)
        if inference is None:
            raise ValidationError(ERROR_NO_INFERENCE, code="no_inference")
    spec = row_spec_build(
        project=project, policy=request.policy, min_confidence=request.min_confidence, run=run,
        inference=inference,
    )  # fmt: skip
    return run, spec


def _inference_unchanged(project: Project, inference: InferenceSource | None) -> None:
    """A new inference run replaces every item's inferred label: if one finished while the rows were read,
    some rows may have missed theirs, and the snapshot is not that of one run."""
    if inference is None:
        return
    latest = inference_source_get(project=project)
    if latest is None or latest.run_id != inference.run_id:
        raise ValidationError(ERROR_INFERENCE_CHANGED, code="inference_changed")


def _unchanged(snapshot: Snapshot, content_hash: str) -> bool:
    """Whether the schedule's own latest snapshot holds the same content (another schedule, or a snapshot made
    by hand with other formats, does not count)."""
    latest = (
        Snapshot.objects.filter(schedule_id=snapshot.schedule_id, status=SnapshotStatus.SUCCEEDED)
        .order_by("-version")
        .first()
    )
    return latest is not None and latest.content_hash == content_hash


def _skip(snapshot: Snapshot, content_hash: str) -> Snapshot:
    now = timezone.now()
    Snapshot.objects.filter(pk=snapshot.pk).update(
        status=SnapshotStatus.SKIPPED, content_hash=content_hash, finished_at=now, storage_prefix=""
    )
    ExportSchedule.objects.filter(snapshots=snapshot).update(
        last_run_at=now, last_status=SnapshotStatus.SKIPPED, last_error=""
    )
    snapshot.refresh_from_db()
    return snapshot


def _finish(
    snapshot: Snapshot, manifest: dict[str, Any], content_hash: str, rows: int, run: LabelModelRun | None
) -> Snapshot:
    """The commit point: the snapshot gets its number and becomes visible, with every file in place."""
    now = timezone.now()
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=snapshot.project_id).first()
        current = (
            Snapshot.objects.filter(project_id=snapshot.project_id).aggregate(n=Max("version"))["n"] or 0
        )
        manifest["version"] = current + 1
        manifest_name = f"{snapshot.storage_prefix}/manifest.json"
        stored = default_storage.save(manifest_name, ContentFile(json.dumps(manifest, indent=2).encode()))
        manifest["manifest_path"] = _absolute(stored)
        Snapshot.objects.filter(pk=snapshot.pk).update(
            version=current + 1, status=SnapshotStatus.SUCCEEDED, content_hash=content_hash, row_count=rows,
            manifest=manifest, run=run, finished_at=now, updated_at=now,
        )  # fmt: skip
        if snapshot.schedule_id:
            ExportSchedule.objects.filter(pk=snapshot.schedule_id).update(
                last_run_at=now, last_status=SnapshotStatus.SUCCEEDED, last_error=""
            )
    snapshot.refresh_from_db()
    return snapshot


def snapshot_delete(*, snapshot: Snapshot) -> None:
    """Deletes a snapshot's files and its record (retention; an owner's clean-up)."""
    _remove_stored(snapshot)
    snapshot.delete()


def snapshot_retention_apply(*, schedule: ExportSchedule) -> int:
    """Keeps the schedule's newest `keep_last` snapshots and deletes the rest; returns how many went."""
    old = list(
        Snapshot.objects.filter(schedule=schedule, status=SnapshotStatus.SUCCEEDED).order_by("-version")[
            schedule.keep_last :
        ]
    )
    for snapshot in old:
        snapshot_delete(snapshot=snapshot)
    return len(old)
