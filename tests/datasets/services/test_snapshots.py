from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage, default_storage

from datasets.choices import LabelPolicy, LabelSource, SnapshotStatus
from datasets.models import Snapshot
from datasets.selectors import snapshot_diff, snapshot_file_open
from datasets.services import snapshots as snapshot_services
from datasets.services.snapshots import SnapshotRequest, snapshot_build, snapshot_create
from oversight.services.review import review_decide
from projects.choices import Split
from projects.models import Item, Project
from tests.labeling.factories import AnnotationFactory, GoldLabelFactory
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory
from tests.weak_supervision.factories import project_with_uncovered_test_items
from weak_supervision.services.runs import run_start

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _labeled(project: Project, n: int, *, prefix: str = "m", label: str | None = None) -> list[Item]:
    """n items, each with two annotations that agree (a gold label): alternately ham and spam."""
    items = []
    for index in range(n):
        item = ItemFactory(
            project=project, external_id=f"{prefix}{index:03d}", metadata={"n": index, "a": "x"}
        )
        answer = label or ("spam" if index % 2 else "ham")
        AnnotationFactory(item=item, labels=[answer])
        AnnotationFactory(item=item, labels=[answer])
        items.append(item)
    return items


def _make(project: Project, **request: Any) -> Snapshot:
    snapshot = snapshot_create(project=project, user=None, request=SnapshotRequest(**request), enqueue=False)
    return snapshot_build(snapshot_id=snapshot.pk)


def _rows(snapshot: Snapshot) -> list[dict[str, Any]]:
    with snapshot_file_open(snapshot=snapshot, name="data.parquet") as handle:
        return pq.read_table(handle).to_pylist()


def test_a_snapshot_writes_every_format_with_a_manifest_and_checksums(project: Project) -> None:
    # given
    _labeled(project, 12)

    # when
    snapshot = _make(project)

    # then
    assert (snapshot.status, snapshot.version, snapshot.row_count) == (SnapshotStatus.SUCCEEDED, 1, 12)
    files = {entry["name"]: entry for entry in snapshot.manifest["files"]}
    assert {"data.parquet", "data.jsonl", "data.csv", "hf/README.md", "fewshot/k8.jsonl"} <= set(files)
    for entry in files.values():
        content = Path(entry["path"]).read_bytes()
        assert (len(content), hashlib.sha256(content).hexdigest()) == (entry["bytes"], entry["sha256"])
    stored = json.loads(Path(snapshot.manifest["manifest_path"]).read_text())
    assert stored["content_hash"] == snapshot.content_hash
    assert stored["version"] == 1
    assert [column["name"] for column in stored["schema"]][:4] == [
        "item_id",
        "external_id",
        "text",
        "metadata",
    ]
    assert stored["counts"]["rows"] == 12
    assert stored["label_distribution"] == {"ham": 6, "spam": 6}
    assert re.fullmatch(r"(git:[0-9a-f]{40}|oversight .*|unknown|.+)", stored["code_version"])
    assert stored["datasheet"]["label_definitions"] == project.instructions


def test_rows_carry_the_final_label_its_source_and_the_annotators_agreement(project: Project) -> None:
    # given: one unanimous item, one adjudicated, one known answer nobody labeled, one disputed
    unanimous, adjudicated, known, disputed = ItemFactory.create_batch(4, project=project)
    AnnotationFactory(item=unanimous, labels=["spam"])
    AnnotationFactory(item=unanimous, labels=["spam"])
    AnnotationFactory(item=adjudicated, labels=["spam"])
    AnnotationFactory(item=adjudicated, labels=["ham"])
    review_decide(project=project, reviewer=UserFactory(), item_id=adjudicated.pk, labels=["ham"])
    GoldLabelFactory(item=known, labels=["ham"])
    AnnotationFactory(item=disputed, labels=["spam"])
    AnnotationFactory(item=disputed, labels=["ham"])
    AnnotationFactory(item=disputed, labels=["spam"])

    # when
    gold = {row["external_id"]: row for row in _rows(_make(project, policy=LabelPolicy.GOLD))}
    soft = {row["external_id"]: row for row in _rows(_make(project, policy=LabelPolicy.SOFT))}

    # then
    assert set(gold) == {unanimous.external_id, adjudicated.external_id, known.external_id}
    row = gold[adjudicated.external_id]
    assert (row["label"], row["label_source"], row["n_annotators"], row["agreement"]) == (
        "ham", LabelSource.ADJUDICATED, 2, 0.5,
    )  # fmt: skip
    assert (gold[known.external_id]["label_source"], gold[known.external_id]["agreement"]) == ("gold", None)
    row = soft[disputed.external_id]
    assert (row["label"], row["label_source"], row["soft_label"]) == (
        "spam", LabelSource.MAJORITY, pytest.approx([1 / 3, 2 / 3], abs=1e-6),
    )  # fmt: skip
    assert row["confidence"] == pytest.approx(2 / 3, abs=1e-6)


def test_the_same_data_gives_the_same_content_hash_and_a_change_a_new_one(project: Project) -> None:
    # given
    items = _labeled(project, 6)
    first = _make(project)

    # when
    same = _make(project)
    review_decide(project=project, reviewer=UserFactory(), item_id=items[0].pk, labels=["spam"])
    changed = _make(project)

    # then
    assert first.content_hash == same.content_hash
    assert changed.content_hash != first.content_hash
    assert [first.version, same.version, changed.version] == [1, 2, 3]


def test_the_content_hash_does_not_depend_on_database_ids(project: Project) -> None:
    # given: the same data in two projects (different item ids, same external ids and labels)
    other = ProjectFactory(instructions=project.instructions)
    ItemFactory.create_batch(3, project=other)  # shifts the ids
    for target in (project, other):
        for index in range(4):
            item = ItemFactory(project=target, external_id=f"x{index}", text=f"text {index}")
            AnnotationFactory(item=item, labels=["spam"])
        Item.objects.filter(project=target).update(split=Split.TRAIN)

    # when
    hashes = {_make(target, formats=["parquet"], fewshot_k=[]).content_hash for target in (project, other)}

    # then
    assert len(hashes) == 1


def test_splits_are_stratified_stored_and_never_move_to_train(project: Project) -> None:
    # given 200 items, a tenth of them spam
    for index in range(200):
        item = ItemFactory(project=project, external_id=f"s{index:03d}")
        AnnotationFactory(item=item, labels=["spam" if index % 10 == 0 else "ham"])
    first = _rows(_make(project, formats=["parquet"], fewshot_k=[]))

    # when: more items arrive and some labels change, then a second version
    for index in range(200, 300):
        item = ItemFactory(project=project, external_id=f"s{index:03d}")
        AnnotationFactory(item=item, labels=["spam" if index % 10 == 0 else "ham"])
    for row in first[:40]:
        review_decide(project=project, reviewer=UserFactory(), item_id=row["item_id"], labels=["spam"])
    second = _rows(_make(project, formats=["parquet"], fewshot_k=[]))

    # then: every item keeps its split, so no test or valid item of v1 is in v2's train split
    before = {row["external_id"]: row["split"] for row in first}
    after = {row["external_id"]: row["split"] for row in second}
    assert all(after[key] == split for key, split in before.items())
    assert not {key for key, split in before.items() if split != Split.TRAIN} & {
        key for key, split in after.items() if split == Split.TRAIN
    }
    # stratified: each split holds about a tenth spam, and the shares are 80/10/10
    counts = {(row["split"], row["label"]): 0 for row in first}
    for row in first:
        counts[row["split"], row["label"]] += 1
    assert (counts["train", "ham"], counts["valid", "ham"], counts["test", "ham"]) == (144, 18, 18)
    assert (counts["train", "spam"], counts["valid", "spam"], counts["test", "spam"]) == (16, 2, 2)
    assert Item.objects.filter(project=project, split="").count() == 0


def test_imported_splits_are_kept(project: Project) -> None:
    # given
    items = _labeled(project, 4)
    Item.objects.filter(pk=items[0].pk).update(split=Split.TEST)

    # when
    rows = {row["item_id"]: row["split"] for row in _rows(_make(project, formats=["parquet"], fewshot_k=[]))}

    # then
    assert rows[items[0].pk] == Split.TEST


def test_filters_keep_only_the_chosen_splits_and_labels(project: Project) -> None:
    # given
    items = _labeled(project, 10)
    Item.objects.filter(pk__in=[item.pk for item in items[:4]]).update(split=Split.TEST)

    # when
    snapshot = _make(project, splits=["test"], labels=["spam"], formats=["parquet"], fewshot_k=[])

    # then
    assert {(row["split"], row["label"]) for row in _rows(snapshot)} == {("test", "spam")}
    assert snapshot.row_count == 2


def test_few_shot_sets_take_k_per_class_from_the_best_agreed_training_items(project: Project) -> None:
    # given: 30 ham and 30 spam training items; two ham items have a third, dissenting annotation
    items = _labeled(project, 60)
    Item.objects.filter(project=project).update(split=Split.TRAIN)
    AnnotationFactory(item=items[0], labels=["spam"])
    AnnotationFactory(item=items[2], labels=["spam"])

    # when
    snapshot = _make(project, fewshot_k=[4], formats=["parquet"])

    # then
    entry = next(e for e in snapshot.manifest["files"] if e["name"] == "fewshot/k4.jsonl")
    rows = [json.loads(line) for line in Path(entry["path"]).read_text().splitlines()]
    assert sorted(row["support_label"] for row in rows) == ["ham"] * 4 + ["spam"] * 4
    assert all(row["agreement"] == 1.0 for row in rows)
    ham = sorted(row["item_id"] for row in rows if row["support_label"] == "ham")
    assert ham[-1] - ham[0] > 30  # spread over the data, not the first four


@pytest.mark.parametrize(
    ("request_fields", "message"),
    [
        ({"formats": ["xlsx"]}, "Choose at least one format among parquet, jsonl, csv, hf; unknown: xlsx."),
        ({"formats": []}, "Choose at least one format"),
        ({"policy": "best"}, "The label policy must be one of gold, gold+weak, soft, inferred."),
        ({"min_confidence": 1.5}, "min_confidence must be between 0 and 1."),
        ({"fewshot_k": [0]}, "Few-shot sizes must be whole numbers from 1 to 1000."),
        ({"splits": ["dev"]}, "Unknown split(s) in the filter: dev (train, valid, test)."),
        ({"labels": ["eggs"]}, "Unknown label(s) in the filter: eggs."),
    ],
)
def test_a_bad_request_is_refused_and_records_nothing(
    project: Project, request_fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        snapshot_create(project=project, user=None, request=SnapshotRequest(**request_fields), enqueue=False)
    assert not Snapshot.objects.exists()


def test_nothing_to_export_fails_with_a_clear_message_and_no_version(project: Project) -> None:
    # given: items nobody labeled
    ItemFactory.create_batch(3, project=project)

    # when
    snapshot = _make(project)

    # then
    assert (snapshot.status, snapshot.version) == (SnapshotStatus.FAILED, None)
    assert snapshot.error.startswith("Nothing to export:")


def test_a_failed_export_leaves_no_snapshot_and_no_files_and_a_retry_succeeds(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: storage breaks after the first two files are stored
    _labeled(project, 6)
    real_save = FileSystemStorage.save
    saved: list[str] = []

    def failing_save(self: FileSystemStorage, name: str, content: Any, max_length: int | None = None) -> str:
        if len(saved) == 2:
            raise OSError("disk full")
        saved.append(name)
        return real_save(self, name, content, max_length=max_length)

    monkeypatch.setattr(FileSystemStorage, "save", failing_save)
    snapshot = snapshot_create(project=project, user=None, request=SnapshotRequest(), enqueue=False)

    # when
    with pytest.raises(OSError, match="disk full"):
        snapshot_build(snapshot_id=snapshot.pk)

    # then
    snapshot.refresh_from_db()
    assert (snapshot.status, snapshot.version) == (SnapshotStatus.FAILED, None)
    assert "disk full" in snapshot.error
    assert len(saved) == 2
    assert not any(default_storage.exists(name) for name in saved)

    # and a retry (what the task's retry does) builds it whole
    monkeypatch.setattr(FileSystemStorage, "save", real_save)
    retried = snapshot_build(snapshot_id=snapshot.pk)
    assert (retried.status, retried.version) == (SnapshotStatus.SUCCEEDED, 1)
    assert all(Path(entry["path"]).is_file() for entry in retried.manifest["files"])


def test_building_a_finished_snapshot_again_changes_nothing(project: Project) -> None:
    # given
    _labeled(project, 3)
    snapshot = _make(project, formats=["jsonl"], fewshot_k=[])

    # when
    again = snapshot_build(snapshot_id=snapshot.pk)

    # then
    assert (again.version, again.content_hash, again.manifest) == (
        1,
        snapshot.content_hash,
        snapshot.manifest,
    )
    assert Snapshot.objects.count() == 1


def test_the_diff_counts_added_removed_and_relabeled_items_per_class(project: Project) -> None:
    # given
    items = _labeled(project, 6)  # m000 ham, m001 spam, ...
    old = _make(project, formats=["parquet"], fewshot_k=[])
    review_decide(project=project, reviewer=UserFactory(), item_id=items[0].pk, labels=["spam"])
    _labeled(project, 2, prefix="n", label="ham")
    new = _make(project, formats=["parquet"], fewshot_k=[])

    # when
    diff = snapshot_diff(old=old, new=new)

    # then
    assert (diff.added, diff.removed, diff.relabeled, diff.unchanged) == (2, 0, 1, 5)
    assert diff.per_class["ham"] == {"added": 2, "removed": 0, "relabeled_from": 1, "relabeled_to": 0}
    assert diff.per_class["spam"] == {"added": 0, "removed": 0, "relabeled_from": 0, "relabeled_to": 1}
    assert diff.transitions == [{"from": "ham", "to": "spam", "count": 1}]
    assert diff.examples["relabeled"] == ["m000"]


def test_weak_labels_above_the_threshold_join_the_gold_ones(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: two gold items and three items only the label model answered (sure, unsure, and abstaining)
    import numpy as np

    from datasets import selectors

    gold = _labeled(project, 2)
    sure, unsure, silent = ItemFactory.create_batch(3, project=project)
    weak = selectors.WeakArrays(
        ids=np.array([sure.pk, unsure.pk, silent.pk], dtype=np.int64),
        probabilities=np.array([[0.1, 0.9], [0.45, 0.55], [0.5, 0.5]], dtype=np.float32),
        covered=np.array([True, True, False]),
        labels=["ham", "spam"],
    )
    monkeypatch.setattr(snapshot_services, "snapshot_run_for", lambda project: None)
    monkeypatch.setattr(selectors, "weak_arrays_get", lambda run: weak)

    # when
    rows = {
        row["item_id"]: row for row in _rows(_make(project, policy=LabelPolicy.GOLD_WEAK, min_confidence=0.8))
    }

    # then
    assert set(rows) == {gold[0].pk, gold[1].pk, sure.pk}
    assert (rows[sure.pk]["label"], rows[sure.pk]["label_source"]) == ("spam", LabelSource.WEAK)
    assert rows[sure.pk]["soft_label"] == pytest.approx([0.1, 0.9], abs=1e-6)


def test_items_no_lf_covers_carry_the_end_models_label_in_a_soft_snapshot(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a run whose LFs cover the 40 train items, and whose end model labels the 4 test items (they also
    # have gold labels, so they carry those), plus an uncovered item without any answer; 24 uncovered valid
    # items with gold show that the end model beats the aggregator on uncovered items
    project = project_with_uncovered_test_items()
    words = {"spam": ["cash", "claim", "urgent", "today"], "ham": ["mum", "dinner", "later", "with"]}
    for index in range(24):
        label = "spam" if index % 2 else "ham"
        text = " ".join(words[label][(index + shift) % 4] for shift in range(3))
        valid = ItemFactory(
            project=project, text=f"{text} {index}", external_id=f"v{index}", split=Split.VALID
        )
        AnnotationFactory(item=valid, labels=[label])
    ItemFactory(project=project, text="cash claim urgent", external_id="stray", split=Split.TEST)
    with django_capture_on_commit_callbacks(execute=True):
        run_start(project=project, user=None)

    # when
    snapshot = _make(project, policy=LabelPolicy.SOFT, formats=["parquet"], fewshot_k=[])

    # then
    rows = {row["external_id"]: row for row in _rows(snapshot)}
    assert len(rows) == 69
    assert (rows["stray"]["label_source"], rows["stray"]["label"]) == (LabelSource.END_MODEL, "spam")
    assert rows["t0"]["label_source"] == LabelSource.GOLD
    assert {row["label_source"] for key, row in rows.items() if key[0] not in "tsv"} == {LabelSource.WEAK}
    assert snapshot.manifest["end_model"]["status"] == "succeeded"
    assert snapshot.manifest["end_model"]["fills_uncovered"] is True
    assert snapshot.manifest["counts"]["label_sources"][LabelSource.END_MODEL] == 1


def test_csv_cells_a_spreadsheet_would_run_are_neutralised_and_the_manifest_says_so() -> None:
    # given items whose id, text and label a spreadsheet would read as formulas
    project = ProjectFactory(labels=["-1", "+1"])
    hostile = ItemFactory(project=project, external_id="=1+1", text='=HYPERLINK("http://evil","x")')
    AnnotationFactory(item=hostile, labels=["-1"])
    AnnotationFactory(item=hostile, labels=["-1"])
    plain = ItemFactory(project=project, external_id="e2", text="@home\tor not")
    AnnotationFactory(item=plain, labels=["+1"])
    AnnotationFactory(item=plain, labels=["+1"])

    # when
    snapshot = _make(project, formats=["csv", "parquet"])

    # then the CSV carries an apostrophe before each such cell, numbers untouched
    with snapshot_file_open(snapshot=snapshot, name="data.csv") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read().decode())))
    by_id = {row["item_id"]: row for row in rows}
    assert (by_id[str(hostile.pk)]["external_id"], by_id[str(hostile.pk)]["text"]) == (
        "'=1+1",
        '\'=HYPERLINK("http://evil","x")',
    )
    assert (by_id[str(hostile.pk)]["label"], by_id[str(plain.pk)]["label"]) == ("'-1", "'+1")
    assert (by_id[str(plain.pk)]["external_id"], by_id[str(plain.pk)]["text"]) == ("e2", "'@home\tor not")
    assert by_id[str(hostile.pk)]["confidence"] == "1.0"
    # and the other formats keep the text as it is, while the manifest says what the CSV did
    assert {row["external_id"]: row["label"] for row in _rows(snapshot)} == {"=1+1": "-1", "e2": "+1"}
    assert "prefixed with '" in snapshot.manifest["csv_formula_cells"]
    stored = json.loads(Path(snapshot.manifest["manifest_path"]).read_text())
    assert stored["csv_formula_cells"] == snapshot.manifest["csv_formula_cells"]


def test_a_merge_leaves_earlier_versions_as_they_were_and_the_diff_reports_it() -> None:
    # given a version taken while "junk" was a label of its own
    from projects.services.label_schema import label_merge

    project = ProjectFactory(labels=["ham", "spam", "junk"])
    _labeled(project, 2, prefix="h", label="ham")
    _labeled(project, 3, prefix="j", label="junk")
    old = _make(project, formats=["parquet"], fewshot_k=[])

    # when "junk" is merged into "spam" and a new version is taken
    label_merge(project=project, key="junk", into="spam", changed_by=None)
    project.refresh_from_db()
    new = _make(project, formats=["parquet"], fewshot_k=[])
    diff = snapshot_diff(old=old, new=new)

    # then the old version still says junk, the new one spam, and the diff names the merge
    assert sorted(row["label"] for row in _rows(old)) == ["ham", "ham", "junk", "junk", "junk"]
    assert sorted(row["label"] for row in _rows(new)) == ["ham", "ham", "spam", "spam", "spam"]
    assert diff.transitions == [{"from": "junk", "to": "spam", "count": 3}]
    assert [(c["action"], c["key"], c["into"], c["counts"]) for c in diff.schema_changes] == [
        ("merge", "junk", "spam", {"annotations": 6})
    ]
