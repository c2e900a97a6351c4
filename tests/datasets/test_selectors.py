"""The snapshot reads: the rows a snapshot holds under each policy, snapshot and schedule lists, files, diffs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.exceptions import NotFoundError
from datasets.choices import ExportFormat, LabelPolicy, LabelSource, SnapshotStatus
from datasets.models import Snapshot
from datasets.selectors import (
    MANIFEST_NAME,
    RowChunk,
    export_schedule_get,
    export_schedule_list,
    row_spec_build,
    snapshot_diff,
    snapshot_file_get,
    snapshot_file_open,
    snapshot_get,
    snapshot_job_get,
    snapshot_latest,
    snapshot_list,
    snapshot_rows,
    snapshot_run_for,
    snapshot_versions,
    weak_arrays_get,
)
from datasets.services.schedules import export_schedule_create
from datasets.services.snapshots import SnapshotRequest, snapshot_build, snapshot_create
from labeling.choices import GoldSource
from projects.models import Item, Project
from tests.datasets.factories import label_items
from tests.labeling.factories import AnnotationFactory, GoldLabelFactory
from tests.projects.factories import ItemFactory, ProjectFactory
from tests.weak_supervision.factories import keyword_lf
from weak_supervision.models import LabelModelRun
from weak_supervision.services.runs import run_start

pytestmark = pytest.mark.django_db


def _make(project: Project, **request: Any) -> Snapshot:
    snapshot = snapshot_create(project=project, user=None, request=SnapshotRequest(**request), enqueue=False)
    return snapshot_build(snapshot_id=snapshot.pk)


def _rows(chunks: list[RowChunk]) -> dict[str, dict[str, Any]]:
    return {
        row["external_id"]: row
        for chunk in chunks
        for index in range(len(chunk))
        for row in [chunk.row(index)]
    }


def _run(project: Project, capture: Any) -> LabelModelRun:
    keyword_lf(project, "prize", "spam", "prize")
    keyword_lf(project, "free", "spam", "free")
    keyword_lf(project, "home", "ham", "home")
    with capture(execute=True):
        run = run_start(project=project, user=None)
    run.refresh_from_db()
    return run


def _mixed_project() -> Project:
    """agreed (ham), disagreed (spam, spam, ham), adjudicated (gold ham), open "free prize" and "at home"."""
    project = ProjectFactory()
    agreed = ItemFactory(project=project, external_id="agreed", text="agreed text")
    AnnotationFactory.create_batch(2, item=agreed, labels=["ham"])
    disagreed = ItemFactory(project=project, external_id="disagreed", text="disagreed text")
    for labels in (["spam"], ["spam"], ["ham"]):
        AnnotationFactory(item=disagreed, labels=labels)
    adjudicated = ItemFactory(project=project, external_id="adjudicated", text="adjudicated text")
    AnnotationFactory(item=adjudicated, labels=["spam"])
    GoldLabelFactory(item=adjudicated, labels=["ham"], source=GoldSource.ADJUDICATED)
    ItemFactory(project=project, external_id="prize", text="free prize")
    ItemFactory(project=project, external_id="home", text="at home")
    label_items(ProjectFactory(), ["spam"])  # another project's
    return project


def test_the_gold_policy_holds_gold_labels_and_unanimous_answers_only() -> None:
    # given
    project = _mixed_project()
    spec = row_spec_build(project=project, policy=LabelPolicy.GOLD, min_confidence=0.8, run=None)

    # when
    rows = _rows(list(snapshot_rows(project=project, spec=spec, chunk_size=2)))

    # then
    assert spec.label_keys == ["ham", "spam"]
    assert spec.weak is None
    assert sorted(rows) == ["adjudicated", "agreed"]
    assert (rows["agreed"]["label"], rows["agreed"]["label_source"], rows["agreed"]["soft_label"]) == (
        "ham", LabelSource.GOLD, [1.0, 0.0]
    )  # fmt: skip
    assert (rows["agreed"]["n_annotators"], rows["agreed"]["agreement"]) == (2, 1.0)
    assert (rows["adjudicated"]["label"], rows["adjudicated"]["label_source"]) == (
        "ham",
        LabelSource.ADJUDICATED,
    )
    assert (rows["adjudicated"]["n_annotators"], rows["adjudicated"]["agreement"]) == (1, 0.0)
    assert json.loads(rows["agreed"]["metadata"]) == {}


def test_the_soft_policy_adds_disagreed_items_with_their_vote_shares() -> None:
    # given
    project = _mixed_project()
    spec = row_spec_build(project=project, policy=LabelPolicy.SOFT, min_confidence=0.8, run=None)

    # when
    rows = _rows(list(snapshot_rows(project=project, spec=spec)))

    # then
    assert sorted(rows) == ["adjudicated", "agreed", "disagreed"]
    disagreed = rows["disagreed"]
    assert (disagreed["label"], disagreed["labels"], disagreed["label_source"]) == (
        "spam",
        ["spam"],
        "majority",
    )
    assert disagreed["soft_label"] == [pytest.approx(1 / 3, abs=1e-6), pytest.approx(2 / 3, abs=1e-6)]
    assert disagreed["confidence"] == pytest.approx(2 / 3, abs=1e-6)
    assert disagreed["agreement"] == pytest.approx(2 / 3, abs=1e-6)


def test_gold_and_weak_adds_the_label_models_answers_from_the_run(
    settings: Any, tmp_path: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given a finished run that covers the open items
    settings.MEDIA_ROOT = tmp_path / "media"
    project = _mixed_project()
    run = _run(project, django_capture_on_commit_callbacks)

    # when
    weak = weak_arrays_get(run=run)
    spec = row_spec_build(project=project, policy=LabelPolicy.GOLD_WEAK, min_confidence=0.0, run=run)
    rows = _rows(list(snapshot_rows(project=project, spec=spec)))
    strict = row_spec_build(project=project, policy=LabelPolicy.GOLD_WEAK, min_confidence=1.01, run=run)

    # then
    assert snapshot_run_for(project=project) == run
    assert snapshot_run_for(project=ProjectFactory()) is None
    assert weak is not None
    assert weak.labels == list(run.labels)
    assert weak.ids.tolist() == sorted(Item.objects.filter(project=project).values_list("pk", flat=True))
    assert (rows["prize"]["label"], rows["prize"]["label_source"]) == ("spam", LabelSource.WEAK)
    assert (rows["home"]["label"], rows["home"]["label_source"]) == ("ham", LabelSource.WEAK)
    assert rows["prize"]["n_annotators"] == 0
    assert rows["prize"]["agreement"] is None
    assert rows["agreed"]["label_source"] == LabelSource.GOLD
    assert sorted(_rows(list(snapshot_rows(project=project, spec=strict)))) == ["adjudicated", "agreed"]
    assert weak_arrays_get(run=None) is None


def test_snapshots_are_listed_scoped_and_only_succeeded_ones_have_versions(
    settings: Any, tmp_path: Any
) -> None:
    # given two built snapshots, a failed one, and another project's
    settings.MEDIA_ROOT = tmp_path / "media"
    project = ProjectFactory()
    label_items(project, ["ham", "spam"])
    first = _make(project, formats=[ExportFormat.JSONL])
    ItemFactory(project=project)
    AnnotationFactory.create_batch(2, item=Item.objects.filter(project=project).last(), labels=["spam"])
    second = _make(project, formats=[ExportFormat.JSONL])
    failed = Snapshot.objects.create(project=project, status=SnapshotStatus.FAILED, error="boom")
    other_project = ProjectFactory()
    label_items(other_project, ["ham"])
    other = _make(other_project, formats=[ExportFormat.JSONL])

    # then
    assert (first.status, second.status) == (SnapshotStatus.SUCCEEDED, SnapshotStatus.SUCCEEDED)
    assert set(snapshot_list(project=project)) == {first, second, failed}
    assert [s.version for s in snapshot_versions(project=project)] == [2, 1]
    assert snapshot_latest(project=project) == second
    assert snapshot_latest(project=ProjectFactory()) is None
    assert snapshot_get(project=project, version=1) == first
    assert snapshot_job_get(project=project, snapshot_id=failed.pk) == failed
    with pytest.raises(NotFoundError, match="Snapshot not found in this project."):
        snapshot_get(project=project, version=int(other.version or 0) + 5)
    with pytest.raises(NotFoundError, match="Snapshot not found in this project."):
        snapshot_job_get(project=project, snapshot_id=other.pk)


def test_a_snapshots_files_are_found_by_their_manifest_name_and_diffed(settings: Any, tmp_path: Any) -> None:
    # given version 1 with a ham and a spam item, version 2 with the ham relabeled and one item added
    settings.MEDIA_ROOT = tmp_path / "media"
    project = ProjectFactory()
    ham, _spam = label_items(project, ["ham", "spam"])
    old = _make(project, formats=[ExportFormat.JSONL, ExportFormat.PARQUET])
    GoldLabelFactory(item=ham, labels=["spam"], source=GoldSource.ADJUDICATED)
    label_items(project, ["ham"])
    new = _make(project, formats=[ExportFormat.JSONL, ExportFormat.PARQUET])

    # when
    entry = snapshot_file_get(snapshot=old, name="data.jsonl")
    with snapshot_file_open(snapshot=old, name="data.jsonl") as handle:
        lines = [json.loads(line) for line in handle]
    with snapshot_file_open(snapshot=old, name=MANIFEST_NAME) as handle:
        manifest = json.load(handle)
    diff = snapshot_diff(old=old, new=new)

    # then
    assert entry["format"] == ExportFormat.JSONL
    assert sorted(line["label"] for line in lines) == ["ham", "spam"]
    assert {file["name"] for file in manifest["files"]} >= {"data.jsonl", "data.parquet"}
    with pytest.raises(NotFoundError, match="The snapshot has no file 'nope.csv'."):
        snapshot_file_get(snapshot=old, name="nope.csv")
    assert (diff.old, diff.new, diff.added, diff.removed, diff.relabeled, diff.unchanged) == (
        1,
        2,
        1,
        0,
        1,
        1,
    )
    assert diff.transitions == [{"from": "ham", "to": "spam", "count": 1}]
    assert diff.examples["relabeled"] == [ham.external_id]


def test_schedules_are_listed_with_their_recent_snapshots_and_only_the_projects_own(
    settings: Any, tmp_path: Any
) -> None:
    # given
    settings.MEDIA_ROOT = tmp_path / "media"
    project = ProjectFactory()
    label_items(project, ["ham"])
    fields: dict[str, Any] = {
        "user": None, "every": 1, "period": "days", "crontab": "", "keep_last": 10,
        "request": SnapshotRequest(formats=[ExportFormat.JSONL]),
    }  # fmt: skip
    nightly = export_schedule_create(project=project, name="nightly", **fields)
    other = export_schedule_create(project=ProjectFactory(), name="nightly", **fields)
    snapshots = [Snapshot.objects.create(project=project, schedule=nightly) for _ in range(7)]

    # when
    listed = list(export_schedule_list(project=project))

    # then
    assert listed == [nightly]
    assert [s.pk for s in listed[0].recent_snapshots] == [s.pk for s in reversed(snapshots)][:5]
    assert export_schedule_get(project=project, schedule_id=nightly.pk) == nightly
    with pytest.raises(NotFoundError, match="Export schedule not found in this project."):
        export_schedule_get(project=project, schedule_id=other.pk)
