"""Reads of snapshots: the lists, one version, its files, and the differences between two versions."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Any

import pyarrow.parquet as pq
from django.core.files.storage import default_storage
from django.db.models import QuerySet

from core.exceptions import NotFoundError
from datasets.choices import ExportFormat, SnapshotStatus
from datasets.models import Snapshot
from projects.models import LabelChange, Project

ERROR_NOT_FOUND = "Snapshot not found in this project."
MANIFEST_NAME = "manifest.json"


def snapshot_list(*, project: Project) -> QuerySet[Snapshot]:
    return Snapshot.objects.filter(project=project).select_related("created_by", "run", "schedule")


def snapshot_versions(*, project: Project) -> QuerySet[Snapshot]:
    return snapshot_list(project=project).filter(status=SnapshotStatus.SUCCEEDED).order_by("-version")


def snapshot_get(*, project: Project, version: int) -> Snapshot:
    snapshot = snapshot_versions(project=project).filter(version=version).first()
    if snapshot is None:
        raise NotFoundError(ERROR_NOT_FOUND)
    return snapshot


def snapshot_latest(*, project: Project) -> Snapshot | None:
    return snapshot_versions(project=project).first()


def snapshot_file_get(*, snapshot: Snapshot, name: str) -> dict[str, Any]:
    """One of the snapshot's files (as listed in its manifest) by its name, e.g. data.parquet."""
    for entry in snapshot.manifest.get("files", []):
        if entry["name"] == name:
            return dict(entry)
    raise NotFoundError(f"The snapshot has no file '{name}'.")


def snapshot_file_open(*, snapshot: Snapshot, name: str) -> IO[bytes]:
    """One of the snapshot's files by its manifest name, or its manifest.json (stored beside them)."""
    if name == MANIFEST_NAME:
        return default_storage.open(f"{snapshot.storage_prefix}/{MANIFEST_NAME}", "rb")
    entry = snapshot_file_get(snapshot=snapshot, name=name)
    return default_storage.open(entry["storage_name"], "rb")


def snapshot_job_get(*, project: Project, snapshot_id: int) -> Snapshot:
    """Any snapshot of the project by its id, whatever its status (pending and failed ones have no version)."""
    snapshot = snapshot_list(project=project).filter(pk=snapshot_id).first()
    if snapshot is None:
        raise NotFoundError(ERROR_NOT_FOUND)
    return snapshot


def _labels_by_item(snapshot: Snapshot) -> dict[str, str]:
    """external id -> label, read from the snapshot's Parquet file (or its JSONL when it has no Parquet)."""
    names = {entry["format"]: entry["name"] for entry in snapshot.manifest.get("files", [])}
    if snapshot.manifest.get("kind") == "spans":
        return _spans_by_item(snapshot, names)
    if ExportFormat.PARQUET in names:
        with snapshot_file_open(snapshot=snapshot, name=names[ExportFormat.PARQUET]) as handle:
            table = pq.read_table(handle, columns=["external_id", "label"])
        return dict(
            zip(table.column("external_id").to_pylist(), table.column("label").to_pylist(), strict=True)
        )
    if ExportFormat.JSONL in names:
        with snapshot_file_open(snapshot=snapshot, name=names[ExportFormat.JSONL]) as handle:
            return {row["external_id"]: row["label"] for row in map(json.loads, handle)}
    raise NotFoundError("This snapshot has neither a Parquet nor a JSONL file to compare.")


def _spans_by_item(snapshot: Snapshot, names: dict[str, str]) -> dict[str, str]:
    """A span snapshot's items, each as its spans written `type:start-end` joined by `;` (empty: no entities):
    an item whose spans changed is relabeled from one such value to the other."""
    if ExportFormat.PARQUET in names:
        with snapshot_file_open(snapshot=snapshot, name=names[ExportFormat.PARQUET]) as handle:
            rows = pq.read_table(handle, columns=["external_id", "spans"]).to_pylist()
    elif ExportFormat.JSONL in names:
        with snapshot_file_open(snapshot=snapshot, name=names[ExportFormat.JSONL]) as handle:
            rows = list(map(json.loads, handle))
    else:
        raise NotFoundError("This snapshot has neither a Parquet nor a JSONL file to compare.")
    return {
        row["external_id"]: ";".join(
            f"{span['label']}:{span['start']}-{span['end']}" for span in row["spans"]
        )
        for row in rows
    }


@dataclass(frozen=True)
class SnapshotDiff:
    old: int
    new: int
    added: int
    removed: int
    relabeled: int
    unchanged: int
    per_class: dict[str, dict[str, int]]  # label -> added, removed, relabeled_from, relabeled_to
    transitions: list[dict[str, Any]]  # {"from", "to", "count"}, most frequent first
    examples: dict[str, list[str]]  # a few external ids per kind
    # The label-schema changes between the two versions (projects.LabelChange), oldest first: a merge
    # explains its transitions ("junk" to "spam" on every item that had it).
    schema_changes: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


EXAMPLES = 20


def _schema_changes(old: Snapshot, new: Snapshot) -> list[dict[str, Any]]:
    """The schema changes made after the earlier version was taken and before the later one."""
    first, last = sorted((old, new), key=lambda snapshot: (snapshot.created_at, snapshot.pk))
    changes = LabelChange.objects.filter(
        project_id=new.project_id, created_at__gt=first.created_at, created_at__lte=last.created_at
    ).order_by("created_at", "id")
    return [
        {"action": change.action, "key": change.key, "into": change.into, "before": change.before,
         "after": change.after, "counts": change.counts, "at": change.created_at.isoformat()}
        for change in changes
    ]  # fmt: skip


def snapshot_diff(*, old: Snapshot, new: Snapshot) -> SnapshotDiff:
    """Items added, removed and relabeled (old label to new), overall and per class, between two versions,
    and the label-schema changes made between them (a merge is why its transitions happened)."""
    before, after = _labels_by_item(old), _labels_by_item(new)
    added = [key for key in after if key not in before]
    removed = [key for key in before if key not in after]
    relabeled = [key for key in after if key in before and before[key] != after[key]]
    per_class: dict[str, Counter[str]] = {}

    def bump(label: str, kind: str) -> None:
        per_class.setdefault(label, Counter())[kind] += 1

    for key in added:
        bump(after[key], "added")
    for key in removed:
        bump(before[key], "removed")
    transitions: Counter[tuple[str, str]] = Counter()
    for key in relabeled:
        bump(before[key], "relabeled_from")
        bump(after[key], "relabeled_to")
        transitions[before[key], after[key]] += 1
    kinds = ("added", "removed", "relabeled_from", "relabeled_to")
    return SnapshotDiff(
        old=int(old.version or 0),
        new=int(new.version or 0),
        added=len(added),
        removed=len(removed),
        relabeled=len(relabeled),
        unchanged=sum(1 for key in after if key in before and before[key] == after[key]),
        per_class={
            label: {kind: counts[kind] for kind in kinds} for label, counts in sorted(per_class.items())
        },
        transitions=[
            {"from": a, "to": b, "count": n} for (a, b), n in sorted(transitions.items(), key=lambda t: -t[1])
        ],
        examples={
            "added": added[:EXAMPLES],
            "removed": removed[:EXAMPLES],
            "relabeled": relabeled[:EXAMPLES],
        },
        schema_changes=_schema_changes(old, new),
    )
