"""Snapshots: immutable, numbered versions of a project's labeled data, written as files with a manifest.

`snapshot_create` validates the request and records a pending snapshot; a worker builds it
(`snapshot_build`): it streams the rows (datasets.selectors.snapshot_rows), gives new items their split for
good, writes every format into a local scratch folder while hashing the content, picks the few-shot sets,
checksums every file, and only then copies them into storage. The snapshot gets its version number in the
last transaction, when every file is in place: a failure at any step deletes what was copied and leaves a
failed snapshot without a number or files, and a retry starts again from nothing.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import tempfile
import traceback
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from active_learning.selectors import learner_model_latest
from core.csv_safety import FORMULA_CELLS_NOTE
from core.version import code_version
from datasets import tasks
from datasets.choices import ExportFormat, LabelPolicy, LabelSource, SnapshotStatus, Trigger
from datasets.models import ExportSchedule, Snapshot
from datasets.selectors import ROW_FIELDS, RowChunk, row_spec_build, snapshot_rows, snapshot_run_for
from datasets.services.splits import SPLIT_RATIOS, SplitAssigner
from datasets.services.writers import (
    SCHEMA,
    SCHEMA_DESCRIPTION,
    ContentHash,
    Sink,
    chunk_table,
    fewshot_write,
    file_digest,
    jsonl_lines,
    sink_for,
)
from oversight.selectors.agreement import agreement_get
from projects.choices import Split
from projects.models import Item, Project
from weak_supervision.models import LabelModelRun

logger = logging.getLogger("oversight.datasets")

MAX_FEWSHOT_K = 1000
DEFAULT_FORMATS = [ExportFormat.PARQUET, ExportFormat.JSONL, ExportFormat.CSV, ExportFormat.HF]
ERROR_FORMATS = "Choose at least one format among {allowed}; unknown: {unknown}."
ERROR_POLICY = "The label policy must be one of {allowed}."
ERROR_CONFIDENCE = "min_confidence must be between 0 and 1."
ERROR_FEWSHOT = f"Few-shot sizes must be whole numbers from 1 to {MAX_FEWSHOT_K}."
ERROR_FILTER_SPLITS = "Unknown split(s) in the filter: {unknown} (train, valid, test)."
ERROR_FILTER_LABELS = "Unknown label(s) in the filter: {unknown}."
GOLD_SOURCES = frozenset({LabelSource.GOLD, LabelSource.ADJUDICATED})
ERROR_NO_ROWS = "Nothing to export: no item of the project has a label under this policy and these filters."


@dataclass(frozen=True)
class SnapshotRequest:
    """What to export: the label policy (and its weak-label threshold), formats, filters, few-shot sizes."""

    policy: str = LabelPolicy.GOLD
    min_confidence: float = 0.8
    formats: list[str] = field(default_factory=lambda: list(DEFAULT_FORMATS))
    splits: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    fewshot_k: list[int] = field(default_factory=lambda: [8, 16, 32])


def snapshot_request_validate(*, project: Project, request: SnapshotRequest) -> SnapshotRequest:
    allowed = list(ExportFormat.values)
    unknown = sorted(set(request.formats) - set(allowed))
    if unknown or not request.formats:
        raise ValidationError(
            ERROR_FORMATS.format(allowed=", ".join(allowed), unknown=", ".join(unknown) or "none"),
            code="formats",
        )
    if request.policy not in LabelPolicy.values:
        raise ValidationError(ERROR_POLICY.format(allowed=", ".join(LabelPolicy.values)), code="policy")
    if not 0.0 <= request.min_confidence <= 1.0:
        raise ValidationError(ERROR_CONFIDENCE, code="min_confidence")
    if any(not isinstance(k, int) or not 1 <= k <= MAX_FEWSHOT_K for k in request.fewshot_k):
        raise ValidationError(ERROR_FEWSHOT, code="fewshot_k")
    bad_splits = sorted(set(request.splits) - set(SPLIT_RATIOS))
    if bad_splits:
        raise ValidationError(ERROR_FILTER_SPLITS.format(unknown=", ".join(bad_splits)), code="filters")
    keys = set(project.labels.values_list("key", flat=True))
    bad_labels = sorted(set(request.labels) - keys)
    if bad_labels:
        raise ValidationError(ERROR_FILTER_LABELS.format(unknown=", ".join(bad_labels)), code="filters")
    ordered = [fmt for fmt in allowed if fmt in request.formats]
    return SnapshotRequest(
        policy=request.policy, min_confidence=float(request.min_confidence), formats=ordered,
        splits=sorted(set(request.splits)), labels=sorted(set(request.labels)),
        fewshot_k=sorted(set(request.fewshot_k)),
    )  # fmt: skip


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
        )  # fmt: skip
        if enqueue:
            transaction.on_commit(lambda: tasks.snapshot_build_task.delay(snapshot.pk))
    return snapshot


class _Tally:
    """Counts and the content hash, updated chunk by chunk."""

    def __init__(self, header: str) -> None:
        self.digest = ContentHash(header)
        self.rows = 0
        self.by_split: Counter[str] = Counter()
        self.by_label: Counter[str] = Counter()
        self.by_source: Counter[str] = Counter()
        self.by_split_label: dict[str, Counter[str]] = {}

    def add(self, chunk: RowChunk) -> None:
        self.digest.update(chunk)
        self.rows += len(chunk)
        # Counted per distinct (split, labels, source) first: few of them, however many rows.
        distinct = Counter(zip(chunk.split, chunk.label, chunk.label_source, strict=True))
        for (split, labels, source), count in distinct.items():
            self.by_split[split] += count
            self.by_source[source] += count
            for label in labels.split("|") if labels else ():
                self.by_label[label] += count
                self.by_split_label.setdefault(split, Counter())[label] += count


def _keep(chunk: RowChunk, splits: list[str], labels: list[str]) -> RowChunk:
    """The rows of the chunk that pass the filters (a split among `splits`, a label among `labels`)."""
    if not splits and not labels:
        return chunk
    wanted_labels = set(labels)
    rows = [
        index
        for index, (split, row_labels) in enumerate(zip(chunk.split, chunk.labels, strict=True))
        if (not splits or split in splits) and (not wanted_labels or wanted_labels.intersection(row_labels))
    ]
    kept = RowChunk()
    for name in ROW_FIELDS:
        column = getattr(chunk, name)
        setattr(kept, name, [column[index] for index in rows])
    return kept


class _FewshotPool:
    """Gold training items per label, for the few-shot support sets, as compact arrays (agreement, number of
    annotators, item id): a million rows cost a few MB, and only the chosen items' texts are read back."""

    def __init__(self) -> None:
        self.by_label: dict[str, tuple[array[float], array[int], array[int]]] = {}

    def add(self, chunk: RowChunk) -> None:
        wanted = [
            index
            for index, (split, source) in enumerate(zip(chunk.split, chunk.label_source, strict=True))
            if split == Split.TRAIN and source in GOLD_SOURCES
        ]
        # Grouped by label list in C (a sort and groupby), then each group's columns taken at once.
        wanted.sort(key=chunk.label.__getitem__)
        for joined, group in itertools.groupby(wanted, key=chunk.label.__getitem__):
            rows = list(group)
            # A known answer nobody labeled (no agreement) is as sure as it gets.
            agreements = [1.0 if value is None else value for value in map(chunk.agreement.__getitem__, rows)]
            counts = list(map(chunk.n_annotators.__getitem__, rows))
            ids = list(map(chunk.item_id.__getitem__, rows))
            for label in joined.split("|") if joined else ():
                stored = self.by_label.setdefault(label, (array("d"), array("q"), array("q")))
                stored[0].extend(agreements)
                stored[1].extend(counts)
                stored[2].extend(ids)

    def support_set(self, k: int) -> list[tuple[str, int, float, int]]:
        """Per label, k items: those whose annotators agreed most (then the most annotators), spread across
        the data (evenly spaced in item order among the equally good), the same every time.
        Returns (label, item id, agreement, annotators)."""
        chosen: list[tuple[str, int, float, int]] = []
        for label in sorted(self.by_label):
            agreement, annotators, ids = (np.asarray(column) for column in self.by_label[label])
            order = np.lexsort((ids, -annotators, -agreement))  # best first; item order among equals
            if len(order) > k:
                cutoff = (agreement[order[k - 1]], annotators[order[k - 1]])
                better = (agreement > cutoff[0]) | ((agreement == cutoff[0]) & (annotators > cutoff[1]))
                tied = np.flatnonzero((agreement == cutoff[0]) & (annotators == cutoff[1]))
                tied = tied[np.argsort(ids[tied], kind="stable")]
                room = k - int(better.sum())  # at least 1: the k-th candidate itself is tied
                order = np.concatenate([order[better[order]], tied[(np.arange(room) * len(tied)) // room]])
            chosen += [(label, int(ids[i]), float(agreement[i]), int(annotators[i])) for i in order]
        return chosen


def _fewshot_rows(chosen: list[tuple[str, int, float, int]]) -> list[dict[str, Any]]:
    """The support set's rows, with the texts read back for just the chosen items."""
    wanted = {item_id for _, item_id, _, _ in chosen}
    found = {
        pk: (external_id, text)
        for pk, external_id, text in Item.objects.filter(pk__in=wanted).values_list(
            "pk", "external_id", "text"
        )
    }
    return [
        {"item_id": item_id, "external_id": found[item_id][0], "text": found[item_id][1], "support_label": label,
         "agreement": agreement, "n_annotators": annotators}
        for label, item_id, agreement, annotators in chosen
    ]  # fmt: skip


def _datasheet(
    project: Project, request: SnapshotRequest, tally: _Tally, run_number: int | None
) -> dict[str, Any]:
    how = {
        LabelPolicy.GOLD: "Only gold labels: items adjudicated by a reviewer, items with a known answer, and items "
        "whose annotators all gave the same answer.",
        LabelPolicy.GOLD_WEAK: "Gold labels first; other items carry the label model's answer where it is at "
        f"least {request.min_confidence:.2f} sure (for items no LF covers, the end model's, trained on the label "
        "model's answers).",
        LabelPolicy.SOFT: "Every item with a label: gold labels, the annotators' vote shares where they disagree, "
        "and the label model's probabilities elsewhere (the end model's for items no LF covers).",
    }[LabelPolicy(request.policy)]
    return {
        "title": project.name,
        "description": project.description,
        "label_definitions": project.instructions,
        "labels": [{"key": label.key, "name": label.name} for label in project.labels.all()],
        "multi_label": project.multi_label,
        "how_labels_were_made": how,
        "annotations_per_item_wanted": project.overlap,
        "label_sources": dict(tally.by_source),
        "weak_supervision_run": run_number,
        "splits": "An item keeps its split in every version: imported splits are kept, and other items get one the "
        "first time a snapshot holds them (80/10/10, stratified by label, in the order of a hash of the project "
        "and the external id).",
    }


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
        fewshot_k=list(snapshot.fewshot_k),
    )  # fmt: skip
    run = snapshot_run_for(project=project) if request.policy != LabelPolicy.GOLD else None
    spec = row_spec_build(
        project=project, policy=request.policy, min_confidence=request.min_confidence, run=run
    )
    header = json.dumps({"labels": spec.label_keys, "multi_label": spec.multi_label, "schema": SCHEMA.names})
    tally = _Tally(header)
    assigner = SplitAssigner(project=project)
    pool = _FewshotPool()
    sinks: list[Sink] = [sink_for(fmt, folder, card=_card(project)) for fmt in request.formats]
    for chunk in snapshot_rows(project=project, spec=spec):
        assigner.assign(chunk)
        kept = _keep(chunk, request.splits, request.labels)
        if not len(kept):
            continue
        tally.add(kept)
        lines = jsonl_lines(kept) if ExportFormat.JSONL in request.formats else []
        table = chunk_table(kept)
        for sink in sinks:
            sink.write(kept, table, lines)
        pool.add(kept)
    names = [name for sink in sinks for name in sink.close()]
    assigner.persist()
    if not tally.rows:
        raise ValidationError(ERROR_NO_ROWS, code="empty")
    content_hash = tally.digest.hexdigest()
    if snapshot.schedule_id and _unchanged(snapshot, content_hash):
        return _skip(snapshot, content_hash)
    names += [fewshot_write(folder, k, _fewshot_rows(pool.support_set(k))) for k in request.fewshot_k]
    entries = _upload(snapshot, folder, names)
    manifest = _manifest(snapshot, request, spec.label_keys, tally, run, entries)
    return _finish(snapshot, manifest, content_hash, tally.rows, run)


def _manifest(
    snapshot: Snapshot,
    request: SnapshotRequest,
    label_keys: list[str],
    tally: _Tally,
    run: LabelModelRun | None,
    files: list[dict[str, Any]],
) -> dict[str, Any]:
    """Everything about the snapshot beside its files: provenance, schema, counts, checksums, datasheet."""
    project = snapshot.project
    agreement = agreement_get(project=project).to_json()
    schema = [
        {
            "name": f.name,
            "type": str(f.type),
            "nullable": f.nullable,
            "description": SCHEMA_DESCRIPTION[f.name],
        }
        for f in SCHEMA
    ]
    counts = {
        "rows": tally.rows,
        "splits": dict(tally.by_split),
        "label_sources": dict(tally.by_source),
        "labels_by_split": {split: dict(counter) for split, counter in tally.by_split_label.items()},
    }
    agreement_keys = (
        "n_items",
        "percent_agreement",
        "cohen_kappa_mean",
        "fleiss_kappa",
        "krippendorff_alpha",
    )
    return {
        "project": {"slug": project.slug, "name": project.name},
        "created_at": timezone.now().isoformat(),
        "created_by": snapshot.created_by.get_username() if snapshot.created_by else None,
        "trigger": snapshot.trigger,
        "schedule": snapshot.schedule.name if snapshot.schedule else None,
        "policy": request.policy,
        "min_confidence": request.min_confidence if request.policy == LabelPolicy.GOLD_WEAK else None,
        "filters": snapshot.filters,
        "labels": label_keys,
        "schema": schema,
        "counts": counts,
        "label_distribution": dict(tally.by_label),
        "agreement": {key: agreement[key] for key in agreement_keys},
        "label_model_run": {"id": run.pk, "number": run.number} if run else None,
        "end_model": _end_model(run),
        "active_learning_model": _learner_model(project),
        "code_version": code_version(),
        "content_hash": tally.digest.hexdigest(),
        "fewshot_k": request.fewshot_k,
        "files": files,
        "csv_formula_cells": FORMULA_CELLS_NOTE,
        "datasheet": _datasheet(project, request, tally, run.number if run else None),
    }


def _end_model(run: LabelModelRun | None) -> dict[str, Any] | None:
    """The run's end model, whose labels the snapshot holds for items no LF covers (when it has one)."""
    entry = (run.metrics or {}).get("end_model") if run is not None else None
    if not entry:
        return None
    return {key: entry[key] for key in ("status", "n_train", "features", "reason") if key in entry}


def _learner_model(project: Project) -> dict[str, Any] | None:
    """The active-learning model version current when the snapshot was made (its metrics on held-out gold)."""
    model = learner_model_latest(project=project)
    if model is None:
        return None
    return {
        "number": model.number,
        "strategy": model.strategy,
        "n_labels": model.n_labels,
        "metrics": model.metrics,
    }


def _card(project: Project) -> str:
    return f"# {project.name}\n\n{project.description}\n\nExported from Oversight. See manifest.json beside it.\n"


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
