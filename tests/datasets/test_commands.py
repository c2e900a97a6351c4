from __future__ import annotations

import hashlib
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from datasets.choices import SnapshotStatus, Trigger
from datasets.models import Snapshot
from datasets.services.snapshots import ERROR_FILTER_LABELS, ERROR_NO_INFERENCE, ERROR_NO_ROWS
from projects.models import Project
from tests.datasets.factories import inference_run_with, label_error_scan_with, label_items
from tests.projects.factories import ItemFactory


def test_create_snapshot_json_prints_the_manifest_on_the_last_line(project: Project) -> None:
    # given
    label_items(project, ["spam", "ham"] * 5)
    out = StringIO()

    # when
    call_command("create_snapshot", project.slug, "--formats", "parquet,csv", "--fewshot", "2,4", "--json",
                 stdout=out)  # fmt: skip

    # then
    manifest = json.loads(out.getvalue().strip().splitlines()[-1])
    snapshot = Snapshot.objects.get()
    assert (snapshot.status, snapshot.trigger, snapshot.created_by) == (
        SnapshotStatus.SUCCEEDED,
        Trigger.CLI,
        None,
    )
    assert manifest["version"] == 1
    assert manifest["content_hash"] == snapshot.content_hash
    assert len(manifest["content_hash"]) == 64
    assert [entry["name"] for entry in manifest["files"]] == [
        "data.parquet", "data.csv", "fewshot/k2.jsonl", "fewshot/k4.jsonl",
    ]  # fmt: skip
    for entry in manifest["files"]:
        path = Path(entry["path"])
        assert path.is_absolute()
        assert path.is_file()
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
    assert Path(manifest["manifest_path"]).is_file()


def test_create_snapshot_prints_a_summary(project: Project) -> None:
    # given
    label_items(project, ["spam", "ham"])
    out = StringIO()

    # when
    call_command("create_snapshot", project.slug, "--policy", "soft", "--formats", "jsonl", "--fewshot", "",
                 stdout=out)  # fmt: skip

    # then
    lines = out.getvalue().splitlines()
    snapshot = Snapshot.objects.get()
    assert lines[0].startswith(f"{project.slug} v1: 2 rows (")
    assert lines[0].endswith(f"policy soft, content hash {snapshot.content_hash[:12]}")
    assert "data.jsonl" in lines[1]
    assert snapshot.manifest["files"][0]["sha256"] in lines[1]
    assert lines[-1] == f"Manifest: {snapshot.manifest['manifest_path']}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fewshot", "0"], "Few-shot sizes must be whole numbers from 1 to 1000."),
        (["--formats", "xml"], "Choose at least one format among parquet, jsonl, csv, hf; unknown: xml."),
        (["--policy", "best"], "The label policy must be one of gold, gold+weak, soft, inferred."),
        (["--labels", "eggs"], ERROR_FILTER_LABELS.format(unknown="eggs", keys="ham, spam")),
        (["--splits", "dev"], "Unknown split(s) in the filter: dev (train, valid, test)."),
        (["--min-confidence", "3"], "min_confidence must be between 0 and 1."),
        (["--fewshot", "8,x"], "Few-shot sizes must be whole numbers from 1 to 1000."),
    ],
)
def test_create_snapshot_rejects_bad_options(project: Project, args: list[str], message: str) -> None:
    # given
    label_items(project, ["spam"])

    # when
    with pytest.raises(CommandError) as raised:
        call_command("create_snapshot", project.slug, *args)

    # then
    assert str(raised.value) == message
    assert not Snapshot.objects.exists()


def test_create_snapshot_of_an_unknown_project_fails(db: None) -> None:
    # when / then
    with pytest.raises(CommandError, match="No project with the slug 'nope'."):
        call_command("create_snapshot", "nope")


def test_create_snapshot_with_nothing_to_export_fails_with_the_message(project: Project) -> None:
    # given: nobody labeled anything
    ItemFactory(project=project)

    # when
    with pytest.raises(CommandError) as raised:
        call_command("create_snapshot", project.slug, "--json")

    # then
    snapshot = Snapshot.objects.get()
    assert str(raised.value) == f"Snapshot #{snapshot.pk} failed: {ERROR_NO_ROWS}"
    assert (snapshot.status, snapshot.version) == (SnapshotStatus.FAILED, None)


def test_create_snapshot_of_inferred_labels_without_suspects(project: Project) -> None:
    # given: inference labels both items, and the label-error scan flags the first
    first, second = label_items(project, ["spam", "ham"])
    inference_run_with(project, {first: ("spam", 0.9, [0.1, 0.9]), second: ("ham", 0.95, [0.95, 0.05])})
    label_error_scan_with(project, [first])
    out = StringIO()

    # when
    call_command("create_snapshot", project.slug, "--policy", "inferred", "--exclude-label-errors",
                 "--formats", "jsonl", "--fewshot", "", stdout=out)  # fmt: skip

    # then
    snapshot = Snapshot.objects.get()
    assert (snapshot.policy, snapshot.exclude_label_errors, snapshot.row_count) == ("inferred", True, 1)
    assert snapshot.manifest["inference"]["run"] == 1
    assert snapshot.manifest["label_errors"] == {"scan": 1, "flagged": 1, "excluded": 1}
    lines = out.getvalue().splitlines()
    assert "Inferred labels of inference run #1 (dawid_skene 1, one_coin)" in lines
    assert "Label-error scan #1: 1 flagged, 1 left out" in lines


def test_create_snapshot_of_inferred_labels_without_an_inference_run_fails_and_makes_nothing(
    project: Project,
) -> None:
    # given
    label_items(project, ["spam"])

    # when
    with pytest.raises(CommandError) as raised:
        call_command("create_snapshot", project.slug, "--policy", "inferred")

    # then
    assert str(raised.value) == ERROR_NO_INFERENCE
    assert not Snapshot.objects.exists()
