"""The import page's evaluation-only splits: a field with help text, its value checked like the API's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from labeling.models import Annotation, EvaluationLabel
from projects.choices import Role
from projects.models import ImportJob, Membership, Project

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
SPLIT_CSV = b"id,text,label,split\na1,Hello there,ham,train\na2,Buy cheap pills now,spam,test\n"


def _form(eval_only_splits: str) -> dict[str, Any]:
    return {
        "file": SimpleUploadedFile("items.csv", SPLIT_CSV, content_type="text/csv"), "text_field": "text",
        "id_field": "id", "label_field": "label", "split_field": "split", "has_header": "on", "on_conflict": "skip",
        "eval_only_splits": eval_only_splits,
    }  # fmt: skip


@pytest.fixture
def client(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> Client:
    return client_for(member_factory(project, Role.DATA_SCIENTIST).user)


def test_the_import_page_offers_evaluation_only_splits_with_help(project: Project, client: Client) -> None:
    # when
    response = client.get(f"/projects/{project.slug}/imports/")

    # then
    html = response.content.decode()
    assert 'name="eval_only_splits"' in html
    assert "Splits whose labels only score, never train or choose anything" in html


def test_the_import_page_marks_the_splits_it_is_given_evaluation_only(
    project: Project, client: Client, media_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/projects/{project.slug}/imports/", _form("test"), headers=HTMX)
    job = ImportJob.objects.get()
    page = client.get(f"/projects/{project.slug}/imports/{job.pk}/")

    # then
    assert response["HX-Redirect"] == f"/projects/{project.slug}/imports/{job.pk}/"
    assert job.options["eval_only_splits"] == ["test"]
    html = page.content.decode()
    assert "<dt>Annotations imported</dt><dd>1</dd>" in html
    assert "<dt>Evaluation-only labels</dt><dd>1</dd>" in html
    assert "The labels of the test split(s) only score" in html
    assert list(EvaluationLabel.objects.values_list("item__external_id", flat=True)) == ["a2"]
    assert list(Annotation.objects.values_list("item__external_id", flat=True)) == ["a1"]


def test_an_unknown_evaluation_only_split_is_shown_on_the_form(project: Project, client: Client) -> None:
    # when
    response = client.post(f"/projects/{project.slug}/imports/", _form("train,holdout"), headers=HTMX)

    # then
    assert response.status_code == 422
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="upload-form"')
    assert (
        "Unknown split &#x27;holdout&#x27; in the evaluation-only splits; give train, valid, test, or none."
        in html
    )
    assert not ImportJob.objects.exists()


def test_the_same_upload_twice_leads_to_the_import_under_way(
    project: Project, client: Client, media_root: Path
) -> None:
    # given a first submit whose import no worker took yet (the test never commits, so its task waits)
    page = client.get(f"/projects/{project.slug}/imports/").content.decode()
    client.post(f"/projects/{project.slug}/imports/", _form("test"), headers=HTMX)

    # when the form is sent again
    second = client.post(f"/projects/{project.slug}/imports/", _form("test"), headers=HTMX)
    job = ImportJob.objects.get(project=project)
    detail = client.get(second["HX-Redirect"]).content.decode()

    # then the button disables itself while it works; one import, whose progress polls, and the page says so
    assert 'hx-disabled-elt="find button[type=submit]"' in page
    assert "Uploading…" in page
    assert second["HX-Redirect"] == f"/projects/{project.slug}/imports/{job.pk}/"
    assert f"The same file is already being imported, as import #{job.pk}: here it is." in detail
    assert 'hx-trigger="every 1s"' in detail
