from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from datasets.choices import SnapshotStatus, Trigger
from datasets.models import Snapshot
from datasets.services.snapshots import ERROR_FILTER_LABELS, ERROR_NO_INFERENCE, ERROR_NO_ROWS
from oversight.services.review import review_decide
from projects.choices import Role
from projects.models import Membership, Project
from tests.datasets.factories import inference_run_with, label_error_scan_with, label_items
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory

COLUMNS = {"external_id", "text", "label", "split"}


def create(client: APIClient, project: Project, callbacks: Any, **data: Any) -> Any:
    with callbacks(execute=True):
        response = client.post(
            reverse("datasets-api:snapshot-list", args=[project.slug]),
            data or {"fewshot_k": [2]},
            format="json",
        )
    return response


def test_snapshot_end_to_end_every_format_loads_and_matches_its_checksum(
    project: Project, owner: Any, api_client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    label_items(project, ["spam", "ham"] * 10)
    client = api_client_for(owner)

    # when
    created = create(client, project, django_capture_on_commit_callbacks)
    detail = client.get(reverse("datasets-api:snapshot-detail", args=[project.slug, 1]))

    # then
    assert created.status_code == 202
    assert created.data["trigger"] == Trigger.API
    assert detail.status_code == 200
    assert detail.data["status"] == SnapshotStatus.SUCCEEDED
    assert detail.data["version"] == 1
    assert detail.data["row_count"] == 20
    manifest = detail.data["manifest"]
    assert manifest["counts"]["rows"] == 20
    assert manifest["label_distribution"] == {"spam": 10, "ham": 10}
    loaded = {}
    for entry in manifest["files"]:
        response = client.get(reverse("datasets-api:snapshot-file", args=[project.slug, 1, entry["name"]]))
        assert response.status_code == 200
        body = b"".join(response.streaming_content)
        assert hashlib.sha256(body).hexdigest() == entry["sha256"]
        assert len(body) == entry["bytes"]
        assert response["Content-Disposition"] == f'attachment; filename="{Path(entry["name"]).name}"'
        loaded[entry["name"]] = body
    frames = {
        "parquet": pd.read_parquet(io.BytesIO(loaded["data.parquet"])),
        "csv": pd.read_csv(io.BytesIO(loaded["data.csv"])),
        "jsonl": pd.read_json(io.BytesIO(loaded["data.jsonl"]), lines=True),
    }
    for frame in frames.values():
        assert set(frame.columns) >= COLUMNS
        assert len(frame) == 20
        assert sorted(frame["label"]) == ["ham"] * 10 + ["spam"] * 10
    table = pq.read_table(io.BytesIO(loaded["data.parquet"]))
    assert set(table.column_names) >= COLUMNS
    assert table.num_rows == 20
    assert set(frames["parquet"]["split"]) <= {"train", "valid", "test"}
    assert [json.loads(line)["support_label"] for line in loaded["fewshot/k2.jsonl"].splitlines()] == [
        "ham", "ham", "spam", "spam",
    ]  # fmt: skip


def test_snapshot_manifest_json_downloads(
    project: Project, owner: Any, api_client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    label_items(project, ["spam", "ham"])
    client = api_client_for(owner)
    create(client, project, django_capture_on_commit_callbacks)

    # when
    response = client.get(reverse("datasets-api:snapshot-file", args=[project.slug, 1, "manifest.json"]))

    # then
    assert response.status_code == 200
    manifest = json.loads(b"".join(response.streaming_content))
    assert manifest["version"] == 1
    assert manifest["content_hash"] == Snapshot.objects.get().content_hash


def test_hugging_face_layout_loads_with_the_datasets_library(
    project: Project,
    owner: Any,
    api_client_for: Any,
    django_capture_on_commit_callbacks: Any,
    tmp_path: Path,
) -> None:
    # given
    label_items(project, ["spam", "ham"] * 15)
    client = api_client_for(owner)
    create(client, project, django_capture_on_commit_callbacks, formats=["hf"], fewshot_k=[])
    manifest = client.get(reverse("datasets-api:snapshot-detail", args=[project.slug, 1])).data["manifest"]
    files = {
        entry["name"].split("/")[-1].split("-")[0]: entry["path"]
        for entry in manifest["files"]
        if entry["name"].endswith(".parquet")
    }

    # when
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import datasets, json, sys; "
            "ds = datasets.load_dataset('parquet', data_files=json.loads(sys.argv[1]), cache_dir=sys.argv[2]); "
            "print(json.dumps({k: v.num_rows for k, v in ds.items()}))",
            json.dumps(files),
            str(tmp_path / "hf-cache"),
        ],
        cwd=tmp_path,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYTHONPATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )

    # then
    rows = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert rows == manifest["counts"]["splits"]
    assert sum(rows.values()) == 30
    assert set(rows) == {"train", "valid", "test"}


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.OWNER, 202), (Role.DATA_SCIENTIST, 202), (Role.REVIEWER, 403), (Role.ANALYST, 403)],
)
def test_snapshot_create_by_role(
    project: Project,
    member_factory: Callable[..., Membership],
    api_client_for: Any,
    django_capture_on_commit_callbacks: Any,
    role: str,
    status: int,
) -> None:
    # given
    label_items(project, ["spam", "ham"])
    client = api_client_for(member_factory(project, role).user)

    # when
    response = create(client, project, django_capture_on_commit_callbacks)

    # then
    assert response.status_code == status
    assert Snapshot.objects.count() == (1 if status == 202 else 0)


def test_snapshot_create_by_an_outsider_is_404_and_makes_nothing(
    project: Project,
    member_factory: Callable[..., Membership],
    api_client_for: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given: the owner of another project
    label_items(project, ["spam"])
    client = api_client_for(member_factory(ProjectFactory(), Role.OWNER).user)

    # when
    response = create(client, project, django_capture_on_commit_callbacks)

    # then
    assert response.status_code == 404
    assert not Snapshot.objects.exists()


@pytest.mark.parametrize(
    ("role", "status"), [(Role.REVIEWER, 200), (Role.DATA_SCIENTIST, 200), (Role.ANALYST, 403), (None, 404)]
)
def test_snapshot_read_by_role(
    project: Project,
    owner: Any,
    member_factory: Callable[..., Membership],
    api_client_for: Any,
    django_capture_on_commit_callbacks: Any,
    role: str | None,
    status: int,
) -> None:
    # given
    label_items(project, ["spam", "ham"])
    create(api_client_for(owner), project, django_capture_on_commit_callbacks)
    user = member_factory(project, role).user if role else member_factory(ProjectFactory(), Role.OWNER).user
    client = api_client_for(user)
    snapshot = Snapshot.objects.get()

    # when
    responses = [
        client.get(reverse("datasets-api:snapshot-list", args=[project.slug])),
        client.get(reverse("datasets-api:snapshot-detail", args=[project.slug, 1])),
        client.get(reverse("datasets-api:snapshot-file", args=[project.slug, 1, "data.parquet"])),
        client.get(reverse("datasets-api:snapshot-job", args=[project.slug, snapshot.pk])),
        client.get(reverse("datasets-api:snapshot-diff", args=[project.slug]), {"old": 1, "new": 1}),
    ]

    # then
    assert [response.status_code for response in responses] == [status] * 5


def test_snapshot_list_is_paginated_newest_first(
    project: Project, owner: Any, api_client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    label_items(project, ["spam", "ham"])
    client = api_client_for(owner)
    create(client, project, django_capture_on_commit_callbacks)
    create(client, project, django_capture_on_commit_callbacks, labels=["spam"])

    # when
    response = client.get(reverse("datasets-api:snapshot-list", args=[project.slug]))

    # then
    assert response.status_code == 200
    assert response.data["count"] == 2
    assert [row["version"] for row in response.data["results"]] == [2, 1]
    assert response.data["results"][0]["filters"] == {"splits": [], "labels": ["spam"]}
    assert response.data["results"][0]["row_count"] == 1
    assert {entry["name"] for entry in response.data["results"][0]["files"]} >= {"data.parquet", "data.csv"}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"formats": ["xml"]}, "formats", '"xml" is not a valid choice.'),
        ({"formats": []}, "formats", "This selection may not be empty."),
        ({"policy": "best"}, "policy", '"best" is not a valid choice.'),
        ({"splits": ["dev"]}, "splits", '"dev" is not a valid choice.'),
        ({"min_confidence": 2}, "min_confidence", "Ensure this value is less than or equal to 1.0."),
        ({"fewshot_k": [0]}, "fewshot_k", None),
    ],
)
def test_snapshot_create_rejects_bad_input(
    project: Project,
    owner: Any,
    api_client_for: Any,
    django_capture_on_commit_callbacks: Any,
    data: dict[str, Any],
    field: str,
    message: str | None,
) -> None:
    # given
    client = api_client_for(owner)

    # when
    response = create(client, project, django_capture_on_commit_callbacks, **data)

    # then
    assert response.status_code == 400
    assert field in response.data
    if message is not None:
        assert response.data[field] == [message]
    assert not Snapshot.objects.exists()


def test_snapshot_create_rejects_an_unknown_label_filter_with_the_service_message(
    project: Project, owner: Any, api_client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    client = api_client_for(owner)

    # when
    response = create(client, project, django_capture_on_commit_callbacks, labels=["eggs", "spam"])

    # then
    assert response.status_code == 400
    assert response.data == {
        "detail": ERROR_FILTER_LABELS.format(unknown="eggs", keys="ham, spam"),
        "code": "filters",
    }
    assert not Snapshot.objects.exists()


def test_snapshot_with_nothing_to_export_fails_without_a_version(
    project: Project, owner: Any, api_client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given: one item the annotators disagree on, so no gold label
    item = ItemFactory(project=project)
    AnnotationFactory(item=item, labels=["spam"])
    AnnotationFactory(item=item, labels=["ham"])
    client = api_client_for(owner)

    # when
    created = create(client, project, django_capture_on_commit_callbacks)
    job = client.get(reverse("datasets-api:snapshot-job", args=[project.slug, created.data["id"]]))

    # then
    assert created.status_code == 202
    assert job.status_code == 200
    assert job.data["status"] == SnapshotStatus.FAILED
    assert job.data["version"] is None
    assert job.data["files"] == []
    assert job.data["error"] == ERROR_NO_ROWS
    assert job.data["error"].startswith("Nothing to export: ")
    listed = client.get(reverse("datasets-api:snapshot-list", args=[project.slug])).data["results"]
    assert [(row["status"], row["version"]) for row in listed] == [(SnapshotStatus.FAILED, None)]


def test_snapshot_job_of_another_project_is_404(
    project: Project, owner: Any, api_client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    other = ProjectFactory()
    label_items(other, ["spam"])
    other_snapshot = Snapshot.objects.create(project=other)

    # when
    response = api_client_for(owner).get(
        reverse("datasets-api:snapshot-job", args=[project.slug, other_snapshot.pk])
    )

    # then
    assert response.status_code == 404


def test_snapshot_diff_counts_added_and_relabeled_items(
    project: Project, owner: Any, api_client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    items = label_items(project, ["spam", "spam", "ham", "ham"])
    client = api_client_for(owner)
    create(client, project, django_capture_on_commit_callbacks)
    review_decide(project=project, reviewer=owner, item_id=items[0].pk, labels=["ham"])
    added = label_items(project, ["spam"])
    create(client, project, django_capture_on_commit_callbacks)

    # when
    response = client.get(reverse("datasets-api:snapshot-diff", args=[project.slug]), {"old": 1, "new": 2})

    # then
    assert response.status_code == 200
    assert response.data["added"] == 1
    assert response.data["removed"] == 0
    assert response.data["relabeled"] == 1
    assert response.data["unchanged"] == 3
    assert response.data["transitions"] == [{"from": "spam", "to": "ham", "count": 1}]
    assert response.data["per_class"]["spam"] == {
        "added": 1, "removed": 0, "relabeled_from": 1, "relabeled_to": 0,
    }  # fmt: skip
    assert response.data["examples"]["added"] == [added[0].external_id]
    assert response.data["examples"]["relabeled"] == [items[0].external_id]


@pytest.mark.parametrize(
    ("query", "status"),
    [({}, 400), ({"old": 1}, 400), ({"old": "x", "new": 1}, 400), ({"old": 1, "new": 7}, 404)],
)
def test_snapshot_diff_rejects_missing_or_unknown_versions(
    project: Project,
    owner: Any,
    api_client_for: Any,
    django_capture_on_commit_callbacks: Any,
    query: dict[str, Any],
    status: int,
) -> None:
    # given
    label_items(project, ["spam"])
    client = api_client_for(owner)
    create(client, project, django_capture_on_commit_callbacks)

    # when
    response = client.get(reverse("datasets-api:snapshot-diff", args=[project.slug]), query)

    # then
    assert response.status_code == status
    if status == 404:
        assert response.data["detail"] == "Snapshot not found in this project."


def test_snapshot_file_unknown_name_is_404(
    project: Project, owner: Any, api_client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    label_items(project, ["spam"])
    client = api_client_for(owner)
    create(client, project, django_capture_on_commit_callbacks)

    # when
    response = client.get(reverse("datasets-api:snapshot-file", args=[project.slug, 1, "../../etc/passwd"]))

    # then
    assert response.status_code == 404
    assert response.data["detail"] == "The snapshot has no file '../../etc/passwd'."


def test_snapshot_list_query_count_does_not_grow_with_snapshots(
    project: Project,
    owner: Any,
    api_client_for: Any,
    django_capture_on_commit_callbacks: Any,
    django_assert_num_queries: Any,
) -> None:
    # given
    label_items(project, ["spam"])
    client = api_client_for(owner)
    for _ in range(3):
        create(client, project, django_capture_on_commit_callbacks)
    Snapshot.objects.create(project=project, created_by=owner)

    # when / then: project with role (one query), count, page
    with django_assert_num_queries(3):
        response = client.get(reverse("datasets-api:snapshot-list", args=[project.slug]))
    assert response.data["count"] == 4


def test_the_same_snapshot_request_twice_makes_one_snapshot_and_answers_200_the_second_time(
    project: Project, owner: Any, api_client_for: Any
) -> None:
    # given a snapshot that no worker built yet (the test never commits, so its task waits)
    label_items(project, ["spam", "ham"])
    client = api_client_for(owner)
    url = reverse("datasets-api:snapshot-list", args=[project.slug])
    first = client.post(url, {"formats": ["jsonl"], "fewshot_k": [2]}, format="json")

    # when
    second = client.post(url, {"formats": ["jsonl"], "fewshot_k": [2]}, format="json")

    # then
    assert (first.status_code, second.status_code) == (202, 200)
    assert second.data["id"] == first.data["id"]
    assert second.data["status"] == SnapshotStatus.PENDING
    assert Snapshot.objects.filter(project=project).count() == 1


def test_snapshot_of_inferred_labels_without_an_inference_run_is_a_400_and_makes_nothing(
    project: Project, owner: Any, api_client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    label_items(project, ["spam"])

    # when
    response = create(api_client_for(owner), project, django_capture_on_commit_callbacks, policy="inferred")

    # then
    assert response.status_code == 400
    assert response.data == {"detail": ERROR_NO_INFERENCE, "code": "no_inference"}
    assert not Snapshot.objects.exists()


def test_snapshot_of_inferred_labels_without_suspects_records_both_in_its_manifest(
    project: Project, owner: Any, api_client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    first, second = label_items(project, ["spam", "ham"])
    inference_run_with(project, {first: ("spam", 0.9, [0.1, 0.9]), second: ("ham", 0.95, [0.95, 0.05])})
    label_error_scan_with(project, [second])
    client = api_client_for(owner)

    # when
    created = create(client, project, django_capture_on_commit_callbacks, policy="inferred",
                     exclude_label_errors=True, formats=["jsonl"], fewshot_k=[])  # fmt: skip
    detail = client.get(reverse("datasets-api:snapshot-detail", args=[project.slug, 1]))

    # then
    assert created.status_code == 202
    assert (created.data["policy"], created.data["exclude_label_errors"]) == ("inferred", True)
    assert detail.data["row_count"] == 1
    manifest = detail.data["manifest"]
    assert (manifest["inference"]["run"], manifest["inference"]["variant"]) == (1, "one_coin")
    assert manifest["label_errors"] == {"scan": 1, "flagged": 1, "excluded": 1}
