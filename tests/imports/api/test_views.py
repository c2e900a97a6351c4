"""The import endpoint's evaluation-only splits: accepted as a list or a comma-separated string, refused by
name, counted on the job."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from labeling.models import Annotation, EvaluationLabel
from projects.models import ImportJob, Item, Project

pytestmark = pytest.mark.django_db

SPLIT_CSV = b"id,text,label,split\na1,Hello there,ham,train\na2,Buy cheap pills now,spam,test\n"
MAPPING = {"text_field": "text", "id_field": "id", "label_field": "label", "split_field": "split"}


def _upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("items.csv", SPLIT_CSV, content_type="text/csv")


@pytest.mark.parametrize(
    ("value", "splits"),
    [
        ("test", ["test"]),
        ("Test, test", ["test"]),
        (["test"], ["test"]),
        (["dev", "test"], ["valid", "test"]),
    ],
)
def test_an_import_names_its_evaluation_only_splits(
    project: Project, owner_client: APIClient, media_root: Path, django_capture_on_commit_callbacks: Any,
    value: str | list[str], splits: list[str],
) -> None:  # fmt: skip
    # given a multipart upload naming the splits in one comma-separated field, or once per split
    url = f"/api/projects/{project.slug}/imports/"
    data = {"file": _upload(), **MAPPING, "eval_only_splits": value}

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(url, data, format="multipart")
    detail = owner_client.get(f"{url}{response.data['id']}/")

    # then
    assert response.status_code == 202
    assert response.data["options"]["eval_only_splits"] == splits
    assert (detail.data["status"], detail.data["annotations_imported"], detail.data["evaluation_labels_imported"]) == (
        "succeeded", 1, 1,
    )  # fmt: skip
    assert list(EvaluationLabel.objects.values_list("item__external_id", flat=True)) == ["a2"]
    assert list(Annotation.objects.values_list("item__external_id", flat=True)) == ["a1"]


def test_left_out_the_evaluation_only_splits_are_the_formats_default(
    project: Project, owner_client: APIClient, media_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    # when a CSV import names none
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            f"/api/projects/{project.slug}/imports/", {"file": _upload(), **MAPPING, "eval_only_splits": ""},
            format="multipart",
        )  # fmt: skip

    # then (no split of a CSV is evaluation-only by default)
    assert response.data["options"]["eval_only_splits"] == []
    assert Annotation.objects.count() == 2
    assert not EvaluationLabel.objects.exists()


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ("holdout", {"eval_only_splits": ["Unknown split 'holdout' in the evaluation-only splits; give train, "
                                          "valid, test, or none."]}),
        ("test,eval", {"eval_only_splits": ["Unknown split 'eval' in the evaluation-only splits; give train, "
                                            "valid, test, or none."]}),
    ],
)  # fmt: skip
def test_an_unknown_evaluation_only_split_is_a_400_naming_it(
    project: Project, owner_client: APIClient, media_root: Path, value: str, errors: dict[str, list[str]]
) -> None:
    # when
    response = owner_client.post(
        f"/api/projects/{project.slug}/imports/", {"file": _upload(), **MAPPING, "eval_only_splits": value},
        format="multipart",
    )  # fmt: skip

    # then
    assert (response.status_code, response.json()) == (400, errors)
    assert not ImportJob.objects.exists()


def test_evaluation_only_splits_without_a_split_field_are_a_400(
    project: Project, owner_client: APIClient, media_root: Path
) -> None:
    # when
    response = owner_client.post(
        f"/api/projects/{project.slug}/imports/",
        {"file": _upload(), "text_field": "text", "label_field": "label", "eval_only_splits": "test"},
        format="multipart",
    )

    # then
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "Evaluation-only splits need the field of each row's split and of its label: map the split field."
    )
    assert not ImportJob.objects.exists()
    assert not Item.objects.exists()


def test_the_same_upload_twice_makes_one_import_and_answers_200_the_second_time(
    project: Project, owner_client: APIClient, media_root: Path
) -> None:
    # given an import that no worker took yet (the test never commits, so its task waits)
    url = f"/api/projects/{project.slug}/imports/"
    first = owner_client.post(url, {"file": _upload(), **MAPPING}, format="multipart")

    # when the same file is sent again
    second = owner_client.post(url, {"file": _upload(), **MAPPING}, format="multipart")

    # then
    assert (first.status_code, second.status_code) == (202, 200)
    assert (second.data["id"], second.data["status"]) == (first.data["id"], "pending")
    assert ImportJob.objects.filter(project=project).count() == 1


@pytest.mark.parametrize(("value", "stored"), [("tab", "\t"), ("\\t", "\t"), ("\t", "\t"), ("pipe", "|")])
def test_an_import_takes_its_delimiter_by_name(
    project: Project, owner_client: APIClient, media_root: Path, django_capture_on_commit_callbacks: Any,
    value: str, stored: str,
) -> None:  # fmt: skip
    # given a tab- or pipe-separated file
    body = "id\ttext\na1\tHello there\n" if stored == "\t" else "id|text\na1|Hello there\n"
    upload = SimpleUploadedFile("items.txt", body.encode(), content_type="text/plain")
    url = f"/api/projects/{project.slug}/imports/"

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            url, {"file": upload, "format": "csv", "id_field": "id", "delimiter": value}, format="multipart"
        )

    # then
    assert response.status_code == 202, response.data
    assert response.data["options"]["delimiter"] == stored
    assert list(Item.objects.values_list("external_id", "text")) == [("a1", "Hello there")]


def test_an_import_refuses_an_unknown_delimiter_name(project: Project, owner_client: APIClient) -> None:
    upload = SimpleUploadedFile("items.csv", b"text\nhi\n", content_type="text/csv")
    response = owner_client.post(
        f"/api/projects/{project.slug}/imports/", {"file": upload, "delimiter": "colon"}, format="multipart"
    )
    assert response.status_code == 400
    assert ImportJob.objects.count() == 0


def test_an_import_skips_repeated_ids_when_asked(
    project: Project, owner_client: APIClient, media_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    upload = SimpleUploadedFile("items.csv", b"id,text\na,one\na,two\nb,three\n", content_type="text/csv")
    url = f"/api/projects/{project.slug}/imports/"

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            url, {"file": upload, "id_field": "id", "on_duplicate": "skip"}, format="multipart"
        )
    detail = owner_client.get(f"{url}{response.data['id']}/")

    # then
    assert (detail.data["status"], detail.data["items_created"]) == ("succeeded", 2)
    assert detail.data["options"]["result"]["duplicates_skipped"] == 1
    assert detail.data["options"]["result"]["duplicate_lines"] == [3]
