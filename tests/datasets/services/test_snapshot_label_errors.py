"""Suspected label errors in snapshots: every manifest counts the rows the latest succeeded label-error scan
flags, and `exclude_label_errors` leaves them out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from datasets.choices import LabelPolicy, SnapshotStatus
from datasets.models import Snapshot
from datasets.selectors import snapshot_file_open
from datasets.services.snapshots import ERROR_NO_ROWS, SnapshotRequest, snapshot_build, snapshot_create
from oversight.choices import JobStatus
from projects.models import Item, Project
from tests.datasets.factories import label_error_scan_with, label_items
from tests.projects.factories import ItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _make(project: Project, **request: Any) -> Snapshot:
    fields: dict[str, Any] = {"formats": ["parquet"], "fewshot_k": []}
    snapshot = snapshot_create(
        project=project, user=None, request=SnapshotRequest(**{**fields, **request}), enqueue=False
    )
    return snapshot_build(snapshot_id=snapshot.pk)


def _ids(snapshot: Snapshot) -> set[int]:
    with snapshot_file_open(snapshot=snapshot, name="data.parquet") as handle:
        return set(pq.read_table(handle).column("item_id").to_pylist())


def _scanned(project: Project) -> tuple[list[Item], list[Item]]:
    """Six labeled items (ham, spam, ...), and the two of them the latest succeeded scan flags: an older scan
    flags two others and a newer one failed. The scan also flags an unlabeled item, in no snapshot."""
    items = label_items(project, ["ham", "spam"] * 3)
    label_error_scan_with(project, items[4:], number=1)
    suspects = items[:2]
    label_error_scan_with(project, [*suspects, ItemFactory(project=project)], number=2)
    label_error_scan_with(project, items[2:4], number=3, status=JobStatus.FAILED)
    return items, suspects


@pytest.mark.parametrize(
    ("exclude", "excluded", "rows"), [(False, 0, 6), (True, 2, 4)], ids=["counted", "left-out"]
)
def test_the_manifest_counts_the_flagged_rows_and_the_option_leaves_them_out(
    project: Project, exclude: bool, excluded: int, rows: int
) -> None:
    # given
    items, suspects = _scanned(project)

    # when
    snapshot = _make(project, exclude_label_errors=exclude)

    # then
    assert (snapshot.status, snapshot.row_count, snapshot.exclude_label_errors) == (
        SnapshotStatus.SUCCEEDED, rows, exclude,
    )  # fmt: skip
    assert snapshot.manifest["label_errors"] == {"scan": 2, "flagged": 2, "excluded": excluded}
    assert snapshot.manifest["exclude_label_errors"] is exclude
    kept = {item.pk for item in items} - ({item.pk for item in suspects} if exclude else set())
    assert _ids(snapshot) == kept


def test_only_the_rows_that_pass_the_filters_are_counted(project: Project) -> None:
    # given: the scan flags a ham item and a spam item
    _scanned(project)

    # when
    snapshot = _make(project, labels=["spam"], exclude_label_errors=True)

    # then
    assert (snapshot.row_count, snapshot.manifest["label_errors"]) == (
        2, {"scan": 2, "flagged": 1, "excluded": 1},
    )  # fmt: skip


@pytest.mark.parametrize("exclude", [False, True])
def test_without_a_succeeded_scan_nothing_is_flagged(project: Project, exclude: bool) -> None:
    # given
    items = label_items(project, ["ham", "spam"])
    label_error_scan_with(project, items, status=JobStatus.RUNNING)

    # when
    snapshot = _make(project, policy=LabelPolicy.GOLD, exclude_label_errors=exclude)

    # then
    assert snapshot.row_count == 2
    assert snapshot.manifest["label_errors"] == {"scan": None, "flagged": 0, "excluded": 0}
    assert snapshot.manifest["inference"] is None


def test_a_snapshot_of_suspects_only_has_nothing_to_export(project: Project) -> None:
    # given
    items = label_items(project, ["ham", "spam"])
    label_error_scan_with(project, items)

    # when
    snapshot = _make(project, exclude_label_errors=True)

    # then
    assert (snapshot.status, snapshot.version, snapshot.error) == (SnapshotStatus.FAILED, None, ERROR_NO_ROWS)
