"""The `inferred` label policy: gold first, then truth inference's label with its posterior as the confidence and
soft label; refused while the project has no succeeded inference run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.core.exceptions import ValidationError

from datasets.choices import LabelPolicy, LabelSource, SnapshotStatus
from datasets.models import Snapshot
from datasets.selectors import snapshot_file_open
from datasets.services import snapshots as snapshot_services
from datasets.services.snapshots import (
    ERROR_INFERENCE_CHANGED,
    ERROR_NO_INFERENCE,
    SnapshotRequest,
    snapshot_build,
    snapshot_create,
)
from oversight.choices import JobStatus
from oversight.models import InferenceRun
from projects.choices import ProjectKind, Split
from projects.models import Project
from tests.datasets.factories import inference_run_with
from tests.labeling.factories import AnnotationFactory, GoldLabelFactory
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _make(project: Project, **request: Any) -> Snapshot:
    fields: dict[str, Any] = {"policy": LabelPolicy.INFERRED, "formats": ["parquet"], "fewshot_k": []}
    snapshot = snapshot_create(
        project=project, user=None, request=SnapshotRequest(**{**fields, **request}), enqueue=False
    )
    return snapshot_build(snapshot_id=snapshot.pk)


def _rows(snapshot: Snapshot) -> dict[str, dict[str, Any]]:
    with snapshot_file_open(snapshot=snapshot, name="data.parquet") as handle:
        return {row["external_id"]: row for row in pq.read_table(handle).to_pylist()}


def _shown(row: dict[str, Any]) -> tuple[Any, ...]:
    """A row's label, source, confidence, soft label and agreement, with float32 read back to 4 places."""
    soft = [round(value, 4) for value in row["soft_label"]]
    agreement = None if row["agreement"] is None else round(row["agreement"], 4)
    return row["label"], row["label_source"], round(row["confidence"], 4), soft, agreement


def test_items_get_the_inferred_label_its_posterior_and_soft_label_and_gold_keeps_its_own(
    project: Project,
) -> None:
    # given: one answer that inference confirms, a unanimous answer it overrules, test-split gold it leaves
    # free (and disagrees with), an item only models answered, one below the threshold, and one answered
    # after the run
    confirmed, overruled, gold, unanswered, unsure, late = (
        ItemFactory(project=project, external_id=name)
        for name in ("confirmed", "overruled", "gold", "unanswered", "unsure", "late")
    )
    AnnotationFactory(item=confirmed, labels=["spam"])
    AnnotationFactory.create_batch(2, item=overruled, labels=["ham"])
    gold.split = Split.TEST
    gold.save(update_fields=["split"])
    GoldLabelFactory(item=gold, labels=["ham"])
    AnnotationFactory(item=unsure, labels=["ham"])
    AnnotationFactory(item=late, labels=["ham"])
    inference_run_with(project, {
        confirmed: ("spam", 0.9, [0.1, 0.9]), overruled: ("spam", 0.85, [0.15, 0.85]),
        gold: ("spam", 0.7, [0.3, 0.7]), unanswered: ("ham", 0.95, [0.95, 0.05]), unsure: ("ham", 0.6, [0.6, 0.4]),
    })  # fmt: skip

    # when
    snapshot = _make(project, min_confidence=0.8)

    # then
    rows = _rows(snapshot)
    assert {name: _shown(row) for name, row in rows.items()} == {
        "confirmed": ("spam", LabelSource.INFERRED, 0.9, [0.1, 0.9], 1.0),
        "overruled": ("spam", LabelSource.INFERRED, 0.85, [0.15, 0.85], 0.0),
        "gold": ("ham", LabelSource.GOLD, 1.0, [1.0, 0.0], None),
        "unanswered": ("ham", LabelSource.INFERRED, 0.95, [0.95, 0.05], None),
    }
    assert rows["overruled"]["n_annotators"] == 2
    assert (snapshot.status, snapshot.run) == (SnapshotStatus.SUCCEEDED, None)
    assert snapshot.manifest["counts"]["label_sources"] == {"inferred": 3, "gold": 1}
    assert snapshot.manifest["min_confidence"] == 0.8


def test_the_manifest_records_the_inference_run(project: Project) -> None:
    # given: an older run, and a newer one that failed
    item = ItemFactory(project=project)
    inference_run_with(project, {item: ("ham", 0.9, [0.9, 0.1])}, number=1)
    latest = inference_run_with(project, {item: ("spam", 0.9, [0.1, 0.9])}, number=2)
    inference_run_with(project, {}, number=3, status=JobStatus.FAILED)

    # when
    snapshot = _make(project)

    # then
    assert snapshot.manifest["policy"] == LabelPolicy.INFERRED
    assert latest.finished_at is not None
    assert snapshot.manifest["inference"] == {
        "run": 2, "engine": "dawid_skene", "engine_version": "1", "variant": "one_coin",
        "finished_at": latest.finished_at.isoformat(),
    }  # fmt: skip
    assert snapshot.manifest["label_model_run"] is None
    assert "truth inference" in snapshot.manifest["datasheet"]["how_labels_were_made"]


def test_soft_labels_follow_the_schema_order_whatever_the_run_order(project: Project) -> None:
    # given: a run whose classes came in another order than the schema's (ham, spam)
    item = ItemFactory(project=project, external_id="x")
    inference_run_with(project, {item: ("spam", 0.8, [0.8, 0.2])}, labels=["spam", "ham"])

    # when
    row = _rows(_make(project, min_confidence=0.0))["x"]

    # then
    assert (row["label"], [round(value, 4) for value in row["soft_label"]]) == ("spam", [0.2, 0.8])


def test_multi_label_items_get_every_inferred_label_and_the_least_sure_posterior() -> None:
    # given
    project = ProjectFactory(kind=ProjectKind.MULTI, multi_label=True, labels=["news", "sport", "tech"])
    item = ItemFactory(project=project, external_id="x")
    inference_run_with(project, {item: ("tech,news", 0.7, [0.9, 0.2, 0.7])}, labels=["news", "sport", "tech"])

    # when
    row = _rows(_make(project, min_confidence=0.5))["x"]

    # then
    assert (row["label"], row["labels"], round(row["confidence"], 4)) == ("news|tech", ["news", "tech"], 0.7)
    assert [round(value, 4) for value in row["soft_label"]] == [0.9, 0.2, 0.7]


@pytest.mark.parametrize("status", [None, JobStatus.FAILED, JobStatus.RUNNING])
def test_without_a_succeeded_inference_run_the_request_is_refused_and_nothing_is_written(
    project: Project, status: str | None
) -> None:
    # given
    item = ItemFactory(project=project)
    AnnotationFactory.create_batch(2, item=item, labels=["spam"])
    if status is not None:
        inference_run_with(project, {}, status=status)

    # when
    with pytest.raises(ValidationError) as raised:
        _make(project)

    # then
    assert raised.value.messages == [ERROR_NO_INFERENCE]
    assert raised.value.code == "no_inference"
    assert not Snapshot.objects.exists()


def test_a_run_gone_before_the_build_fails_the_snapshot_with_the_message(project: Project) -> None:
    # given: a pending snapshot, then its project's only run is deleted
    item = ItemFactory(project=project)
    inference_run_with(project, {item: ("spam", 0.9, [0.1, 0.9])})
    pending = snapshot_create(
        project=project, user=None, request=SnapshotRequest(policy=LabelPolicy.INFERRED), enqueue=False
    )
    InferenceRun.objects.all().delete()

    # when
    snapshot = snapshot_build(snapshot_id=pending.pk)

    # then
    assert (snapshot.status, snapshot.version, snapshot.error) == (
        SnapshotStatus.FAILED,
        None,
        ERROR_NO_INFERENCE,
    )


def test_a_new_inference_run_during_the_build_fails_the_snapshot_without_files(
    project: Project, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a second run finishes while the rows are read
    item = ItemFactory(project=project)
    inference_run_with(project, {item: ("spam", 0.9, [0.1, 0.9])}, number=1)
    read = snapshot_services.snapshot_rows

    def read_then_rerun(**kwargs: Any) -> Iterator[Any]:
        yield from read(**kwargs)
        inference_run_with(project, {item: ("ham", 0.9, [0.9, 0.1])}, number=2)

    monkeypatch.setattr(snapshot_services, "snapshot_rows", read_then_rerun)

    # when
    snapshot = _make(project)

    # then
    assert (snapshot.status, snapshot.version, snapshot.error) == (
        SnapshotStatus.FAILED, None, ERROR_INFERENCE_CHANGED,
    )  # fmt: skip
    assert not [path for path in media_root.rglob("*") if path.is_file()]
