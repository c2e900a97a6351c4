"""Snapshots of span projects: which spans each policy takes, the JSONL, Parquet and CSV rows with offsets, the
Hugging Face token-classification files that `datasets` loads, and splits that never change."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.core.exceptions import ValidationError

from core.spans import span_make
from datasets.choices import LabelPolicy, SnapshotStatus
from datasets.models import Snapshot
from datasets.selectors import snapshot_diff, snapshot_file_open
from datasets.services.snapshot_requests import ERROR_SPANS_INFERRED
from datasets.services.snapshots import SnapshotRequest, snapshot_build, snapshot_create
from labeling.choices import GoldSource
from labeling.models import Annotation
from projects.choices import ProjectKind
from projects.models import Item, Project
from tests.labeling.factories import AnnotationFactory, GoldLabelFactory
from tests.projects.factories import ItemFactory, ProjectFactory
from weak_supervision.models import ItemWeakLabel, LabelModelRun

pytestmark = pytest.mark.django_db

TEXT = "Ann met Bob in Oslo"
ANN, BOB, OSLO = span_make(TEXT, 0, 3, "per"), span_make(TEXT, 8, 11, "per"), span_make(TEXT, 15, 19, "loc")


def _span_project() -> Project:
    """Items whose spans come from gold (g1), unanimous annotators (u1), a majority (m1), the label model (w1
    sure, w2 unsure), and an item nobody answered (n1)."""
    project = ProjectFactory(kind=ProjectKind.SPANS, labels=["per", "loc"])
    items = {key: ItemFactory(project=project, external_id=key, text=TEXT, split="train")
             for key in ("g1", "u1", "m1", "w1", "w2", "n1")}  # fmt: skip
    # g1 keeps the import's tokens: "Ann met" is one token, so Ann's tag covers it.
    Item.objects.filter(pk=items["g1"].pk).update(
        token_offsets=[[0, 7], [8, 11], [12, 14], [15, 19]], split="test"
    )
    GoldLabelFactory(
        item=items["g1"], labels=["per"], spans=[ANN], source=GoldSource.ADJUDICATED, is_check=False
    )
    AnnotationFactory(item=items["g1"], labels=["per"], spans=[BOB])
    for _ in range(2):
        AnnotationFactory(item=items["u1"], labels=["per"], spans=[BOB])
    for spans in ([ANN, OSLO], [ANN], [ANN, OSLO]):
        AnnotationFactory(
            item=items["m1"], labels=sorted({s["label"] for s in spans}, reverse=True), spans=spans
        )
    run = LabelModelRun.objects.create(project=project, number=1, status="succeeded")
    for key, confidence in (("w1", 0.9), ("w2", 0.5)):
        ItemWeakLabel.objects.create(item=items[key], project=project, run=run, label="loc", spans=[OSLO],
                                     confidence=confidence)  # fmt: skip
    return project


def _make(project: Project, **request: Any) -> Snapshot:
    snapshot = snapshot_create(project=project, user=None, request=SnapshotRequest(**request), enqueue=False)
    return snapshot_build(snapshot_id=snapshot.pk)


def _jsonl(snapshot: Snapshot) -> dict[str, dict[str, Any]]:
    with snapshot_file_open(snapshot=snapshot, name="data.jsonl") as handle:
        rows = [json.loads(line) for line in io.TextIOWrapper(handle, encoding="utf-8")]
    return {row["external_id"]: row for row in rows}


def test_a_gold_snapshot_holds_gold_and_unanimous_spans_with_offsets() -> None:
    # given
    project = _span_project()

    # when
    snapshot = _make(project, formats=["jsonl", "parquet", "csv"], fewshot_k=[8])

    # then
    assert (snapshot.status, snapshot.row_count) == (SnapshotStatus.SUCCEEDED, 2)
    rows = _jsonl(snapshot)
    assert rows["g1"] == {
        "agreement": 0.0, "confidence": 1.0, "external_id": "g1", "item_id": rows["g1"]["item_id"],
        "label_source": "adjudicated", "labels": ["per"], "metadata": {}, "n_annotators": 1, "spans": [ANN],
        "split": "test", "text": TEXT,
    }  # fmt: skip
    assert (rows["u1"]["spans"], rows["u1"]["label_source"], rows["u1"]["agreement"]) == ([BOB], "gold", 1.0)
    with snapshot_file_open(snapshot=snapshot, name="data.parquet") as handle:
        table = {row["external_id"]: row for row in pq.read_table(handle).to_pylist()}
    assert table["g1"]["tokens"] == ["Ann met", "Bob", "in", "Oslo"]
    assert table["g1"]["ner_tags"] == ["B-per", "O", "O", "O"]
    assert table["u1"]["ner_tags"] == ["O", "O", "B-per", "O", "O"]
    assert table["u1"]["spans"] == [BOB]
    with snapshot_file_open(snapshot=snapshot, name="data.csv") as handle:
        cells = {
            row["external_id"]: row for row in csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8"))
        }
    assert json.loads(cells["u1"]["spans"]) == [BOB]
    manifest = snapshot.manifest
    assert (manifest["kind"], manifest["ner_tags"], manifest["fewshot_k"]) == (
        "spans",
        ["O", "B-per", "I-per", "B-loc", "I-loc"],
        [],
    )
    assert [column["name"] for column in manifest["schema"]][4] == "spans"
    assert manifest["counts"]["label_sources"] == {"adjudicated": 1, "gold": 1}


def test_a_soft_snapshot_adds_majority_spans_and_weak_spans() -> None:
    # given
    project = _span_project()

    # when
    snapshot = _make(project, policy=LabelPolicy.SOFT, formats=["jsonl"], fewshot_k=[])

    # then
    rows = _jsonl(snapshot)
    assert sorted(rows) == ["g1", "m1", "u1", "w1", "w2"]
    assert {key: rows["m1"][key] for key in ("spans", "labels", "label_source", "confidence", "agreement")} == {
        "spans": [ANN, OSLO], "labels": ["per", "loc"], "label_source": "majority", "confidence": 0.666667,
        "agreement": 0.666667,
    }  # fmt: skip
    assert (rows["w2"]["spans"], rows["w2"]["label_source"], rows["w2"]["confidence"]) == (
        [OSLO],
        "weak",
        0.5,
    )


def test_a_gold_weak_snapshot_takes_weak_spans_at_least_as_sure_as_asked() -> None:
    # given
    project = _span_project()

    # when
    snapshot = _make(
        project, policy=LabelPolicy.GOLD_WEAK, min_confidence=0.8, formats=["jsonl"], fewshot_k=[]
    )

    # then
    assert sorted(_jsonl(snapshot)) == ["g1", "u1", "w1"]
    assert snapshot.run is not None


def test_a_type_filter_keeps_the_rows_holding_that_type() -> None:
    # given
    project = _span_project()

    # when
    snapshot = _make(project, policy=LabelPolicy.SOFT, labels=["LOC"], formats=["jsonl"], fewshot_k=[])

    # then
    assert sorted(_jsonl(snapshot)) == ["m1", "w1", "w2"]


def test_splits_given_by_a_first_snapshot_are_kept_by_the_next() -> None:
    # given
    project = _span_project()
    Item.objects.filter(project=project).exclude(external_id="g1").update(split="")
    first = _jsonl(_make(project, policy=LabelPolicy.SOFT, formats=["jsonl"], fewshot_k=[]))

    # when
    second = _jsonl(_make(project, policy=LabelPolicy.SOFT, formats=["jsonl"], fewshot_k=[]))

    # then
    assert {key: row["split"] for key, row in second.items()} == {
        key: row["split"] for key, row in first.items()
    }
    stored = dict(Item.objects.filter(project=project).values_list("external_id", "split"))
    assert all(stored[key] == row["split"] != "" for key, row in first.items())


def test_the_inferred_policy_is_refused_for_a_span_project() -> None:
    # given
    project = ProjectFactory(kind=ProjectKind.SPANS, labels=["per"])

    # when
    with pytest.raises(ValidationError) as caught:
        snapshot_create(project=project, user=None, request=SnapshotRequest(policy=LabelPolicy.INFERRED))

    # then
    assert caught.value.messages == [ERROR_SPANS_INFERRED]
    assert not Snapshot.objects.exists()


def test_the_hugging_face_files_load_as_token_classification_data(tmp_path: Path) -> None:
    # given
    project = _span_project()
    snapshot = _make(project, policy=LabelPolicy.SOFT, formats=["hf"], fewshot_k=[])
    files = {entry["name"].split("/")[-1].split("-")[0]: entry["path"]
             for entry in snapshot.manifest["files"] if entry["name"].endswith(".parquet")}  # fmt: skip

    # when: in a process of its own, where `datasets` is Hugging Face's (here it is this app)
    script = (
        "import datasets, json, sys; "
        "ds = datasets.load_dataset('parquet', data_files=json.loads(sys.argv[1]), cache_dir=sys.argv[2]); "
        "feature = ds['train'].features['ner_tags'].feature; "
        "rows = {r['id']: [feature.int2str(i) for i in r['ner_tags']] for s in ds for r in ds[s]}; "
        "print(json.dumps({'type': type(feature).__name__, 'names': feature.names, 'rows': rows, "
        "'splits': {s: ds[s].num_rows for s in ds}, 'tokens': ds['test'][0]['tokens']}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script, json.dumps(files), str(tmp_path / "hf-cache")],
        cwd=tmp_path, capture_output=True, text=True, check=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYTHONPATH": ""},
    )  # fmt: skip

    # then
    found = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert (found["type"], found["names"]) == ("ClassLabel", ["O", "B-per", "I-per", "B-loc", "I-loc"])
    assert found["splits"] == snapshot.manifest["counts"]["splits"]
    assert found["tokens"] == ["Ann met", "Bob", "in", "Oslo"]
    assert found["rows"]["g1"] == ["B-per", "O", "O", "O"]
    assert found["rows"]["m1"] == ["B-per", "O", "O", "O", "B-loc"]


def test_the_diff_of_two_span_versions_names_the_items_whose_spans_changed() -> None:
    # given
    project = _span_project()
    old = _make(project, formats=["parquet"], fewshot_k=[])
    Annotation.objects.filter(item__external_id="u1").update(spans=[ANN])

    # when
    diff = snapshot_diff(old=old, new=_make(project, formats=["jsonl"], fewshot_k=[]))

    # then
    assert (diff.added, diff.removed, diff.relabeled, diff.unchanged) == (0, 0, 1, 1)
    assert diff.transitions == [{"from": "per:8-11", "to": "per:0-3", "count": 1}]
