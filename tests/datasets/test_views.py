from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from datasets.choices import SnapshotStatus, Trigger
from datasets.models import Snapshot
from datasets.services.snapshots import ERROR_NO_INFERENCE, ERROR_NO_ROWS
from oversight.services.review import review_decide
from projects.choices import Role
from projects.models import Membership, Project
from tests.datasets.factories import inference_run_with, label_error_scan_with, label_items
from tests.projects.factories import ItemFactory, ProjectFactory

FORM = {"policy": "gold", "min_confidence": "0.8", "formats": ["parquet", "jsonl"], "fewshot_k": "2"}


def post_form(client: Client, project: Project, callbacks: Any, **data: Any) -> Any:
    with callbacks(execute=True):
        return client.post(reverse("datasets:snapshot-list", args=[project.slug]), {**FORM, **data})


def test_snapshot_form_makes_a_version_and_lists_it(
    project: Project, owner: Any, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    label_items(project, ["spam", "ham"] * 3)
    client = client_for(owner)

    # when
    response = post_form(client, project, django_capture_on_commit_callbacks, labels=["spam"])
    page = client.get(reverse("datasets:snapshot-list", args=[project.slug]))

    # then
    assert response.status_code == 302
    snapshot = Snapshot.objects.get()
    assert (snapshot.status, snapshot.version, snapshot.trigger) == (SnapshotStatus.SUCCEEDED, 1, Trigger.UI)
    assert snapshot.formats == ["parquet", "jsonl"]
    assert snapshot.filters == {"splits": [], "labels": ["spam"]}
    assert snapshot.fewshot_k == [2]
    assert snapshot.row_count == 3
    assert page.status_code == 200
    html = page.content.decode()
    assert f'href="{reverse("datasets:snapshot-detail", args=[project.slug, 1])}"' in html
    assert snapshot.content_hash[:12] in html


def test_snapshot_form_by_htmx_redirects_the_client(
    project: Project, owner: Any, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    label_items(project, ["spam"])
    client = client_for(owner)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("datasets:snapshot-list", args=[project.slug]), FORM, headers={"HX-Request": "true"}
        )

    # then
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("datasets:snapshot-list", args=[project.slug])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"formats": ["xml"]}, "Select a valid choice. xml is not one of the available choices."),
        ({"formats": []}, "This field is required."),
        ({"policy": "best"}, "Select a valid choice. best is not one of the available choices."),
        ({"labels": ["eggs"]}, "Select a valid choice. eggs is not one of the available choices."),
        ({"fewshot_k": "8,many"}, "Few-shot sizes must be whole numbers from 1 to 1000."),
        ({"fewshot_k": "5000"}, "Few-shot sizes must be whole numbers from 1 to 1000."),
    ],
)
def test_snapshot_form_errors_rerender_the_form_with_422(
    project: Project,
    owner: Any,
    client_for: Any,
    django_capture_on_commit_callbacks: Any,
    data: dict[str, Any],
    message: str,
) -> None:
    # given
    label_items(project, ["spam"])

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).post(
            reverse("datasets:snapshot-list", args=[project.slug]),
            {**FORM, **data},
            headers={"HX-Request": "true"},
        )

    # then
    assert response.status_code == 422
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="create-form"')
    assert message in html
    assert not Snapshot.objects.exists()


def test_snapshot_with_nothing_to_export_shows_the_failure(
    project: Project, owner: Any, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given: no labeled item
    ItemFactory(project=project)
    client = client_for(owner)

    # when
    response = post_form(client, project, django_capture_on_commit_callbacks)
    page = client.get(reverse("datasets:snapshot-list", args=[project.slug]))

    # then
    assert response.status_code == 302
    snapshot = Snapshot.objects.get()
    assert (snapshot.status, snapshot.version, snapshot.error) == (SnapshotStatus.FAILED, None, ERROR_NO_ROWS)
    assert ERROR_NO_ROWS in page.content.decode()
    assert f"#{snapshot.pk}" in page.content.decode()


@pytest.mark.parametrize(
    ("role", "status"), [(Role.DATA_SCIENTIST, 302), (Role.REVIEWER, 403), (Role.ANALYST, 403)]
)
def test_snapshot_form_by_role(
    project: Project,
    member_factory: Callable[..., Membership],
    client_for: Any,
    django_capture_on_commit_callbacks: Any,
    role: str,
    status: int,
) -> None:
    # given
    label_items(project, ["spam"])
    client = client_for(member_factory(project, role).user)

    # when
    response = post_form(client, project, django_capture_on_commit_callbacks)

    # then
    assert response.status_code == status
    assert Snapshot.objects.count() == (1 if status == 302 else 0)


@pytest.mark.parametrize(
    ("role", "status", "form_shown"),
    [(Role.OWNER, 200, True), (Role.REVIEWER, 200, False), (Role.ANALYST, 403, False), (None, 404, False)],
)
def test_snapshot_pages_by_role(
    project: Project,
    owner: Any,
    member_factory: Callable[..., Membership],
    client_for: Any,
    django_capture_on_commit_callbacks: Any,
    role: str | None,
    status: int,
    form_shown: bool,
) -> None:
    # given
    label_items(project, ["spam", "ham"])
    post_form(client_for(owner), project, django_capture_on_commit_callbacks)
    post_form(client_for(owner), project, django_capture_on_commit_callbacks)
    user = member_factory(project, role).user if role else member_factory(ProjectFactory(), Role.OWNER).user
    client = client_for(user)
    snapshot = Snapshot.objects.order_by("id").first()
    assert snapshot is not None

    # when
    responses = [
        client.get(reverse("datasets:snapshot-list", args=[project.slug])),
        client.get(reverse("datasets:snapshot-detail", args=[project.slug, 1])),
        client.get(reverse("datasets:snapshot-download", args=[project.slug, 1, "data.parquet"])),
        client.get(reverse("datasets:snapshot-diff", args=[project.slug]), {"old": 1, "new": 2}),
        client.get(reverse("datasets:snapshot-status", args=[project.slug, snapshot.pk])),
    ]

    # then
    assert [response.status_code for response in responses] == [status] * 5
    assert ('id="create-form"' in responses[0].content.decode()) is form_shown


def test_snapshot_detail_shows_the_manifest(
    project: Project, owner: Any, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    label_items(project, ["spam", "ham", "spam"])
    client = client_for(owner)
    post_form(client, project, django_capture_on_commit_callbacks)
    snapshot = Snapshot.objects.get()

    # when
    response = client.get(reverse("datasets:snapshot-detail", args=[project.slug, 1]))

    # then
    assert response.status_code == 200
    html = response.content.decode()
    for entry in snapshot.manifest["files"]:
        assert entry["sha256"] in html
        assert reverse("datasets:snapshot-download", args=[project.slug, 1, entry["name"]]) in html
    assert "fewshot/k2.jsonl" in html
    assert snapshot.content_hash in html
    assert reverse("datasets:snapshot-download", args=[project.slug, 1, "manifest.json"]) in html
    assert 'id="snapshot-schema"' in html
    assert "How labels were made" in html
    assert "Krippendorff" in html


def test_snapshot_download_streams_the_file_as_an_attachment(
    project: Project, owner: Any, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    label_items(project, ["spam", "ham"])
    client = client_for(owner)
    post_form(client, project, django_capture_on_commit_callbacks, formats=["hf"])
    entry = next(e for e in Snapshot.objects.get().manifest["files"] if e["name"].startswith("hf/data/"))

    # when
    response = client.get(reverse("datasets:snapshot-download", args=[project.slug, 1, entry["name"]]))

    # then
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{Path(entry["name"]).name}"'
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == entry["sha256"]


def test_snapshot_download_of_an_unknown_file_or_version_is_404(
    project: Project, owner: Any, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    label_items(project, ["spam"])
    client = client_for(owner)
    post_form(client, project, django_capture_on_commit_callbacks)

    # when
    responses = [
        client.get(reverse("datasets:snapshot-download", args=[project.slug, 1, "data.csv"])),
        client.get(reverse("datasets:snapshot-download", args=[project.slug, 2, "data.parquet"])),
    ]

    # then
    assert [response.status_code for response in responses] == [404, 404]


def test_snapshot_status_polls_until_the_snapshot_is_finished(
    project: Project, owner: Any, client_for: Any
) -> None:
    # given: a snapshot still waiting for a worker
    pending = Snapshot.objects.create(project=project, created_by=owner)
    url = reverse("datasets:snapshot-status", args=[project.slug, pending.pk])

    # when
    polling = client_for(owner).get(url, headers={"HX-Request": "true"})
    Snapshot.objects.filter(pk=pending.pk).update(status=SnapshotStatus.FAILED, error="Nothing to export: x")
    finished = client_for(owner).get(url, headers={"HX-Request": "true"})

    # then
    assert polling.status_code == 200
    assert polling.content.decode().lstrip().startswith(f'<tr id="snapshot-{pending.pk}"')
    assert f'hx-get="{url}"' in polling.content.decode()
    assert 'hx-trigger="every 2s"' in polling.content.decode()
    assert "hx-get" not in finished.content.decode()
    assert "Nothing to export: x" in finished.content.decode()


def test_snapshot_diff_page_counts_added_and_relabeled_items(
    project: Project, owner: Any, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    items = label_items(project, ["spam", "ham", "ham"])
    client = client_for(owner)
    post_form(client, project, django_capture_on_commit_callbacks)
    review_decide(project=project, reviewer=owner, item_id=items[1].pk, labels=["spam"])
    added = label_items(project, ["ham", "ham"])
    post_form(client, project, django_capture_on_commit_callbacks)

    # when
    response = client.get(reverse("datasets:snapshot-diff", args=[project.slug]), {"old": 1, "new": 2})

    # then
    assert response.status_code == 200
    assert response.context["diff"]["added"] == 2
    assert response.context["diff"]["relabeled"] == 1
    assert response.context["diff"]["transitions"] == [{"from": "ham", "to": "spam", "count": 1}]
    html = response.content.decode()
    assert '<div class="stat"><b>2</b><span>added</span></div>' in html
    assert '<div class="stat"><b>1</b><span>relabeled</span></div>' in html
    assert added[0].external_id in html
    assert items[1].external_id in html


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ({}, 400, "Choose two versions to compare"),
        ({"old": "one", "new": "2"}, 400, "Choose two versions to compare"),
        ({"old": "1", "new": "9"}, 404, "Snapshot not found in this project. (v1 or v9)"),
    ],
)
def test_snapshot_diff_page_explains_bad_versions(
    project: Project,
    owner: Any,
    client_for: Any,
    django_capture_on_commit_callbacks: Any,
    query: dict[str, str],
    status: int,
    message: str,
) -> None:
    # given
    label_items(project, ["spam"])
    client = client_for(owner)
    post_form(client, project, django_capture_on_commit_callbacks)

    # when
    response = client.get(reverse("datasets:snapshot-diff", args=[project.slug]), query)

    # then
    assert response.status_code == status
    assert message in response.content.decode()


def test_datasets_tab_is_hidden_from_analysts(
    project: Project, member_factory: Callable[..., Membership], client_for: Any
) -> None:
    # given
    analyst = member_factory(project, Role.ANALYST).user
    reviewer = member_factory(project, Role.REVIEWER).user
    url = reverse("labeling:project-detail", args=[project.slug])
    tab = reverse("datasets:snapshot-list", args=[project.slug])

    # when
    as_analyst = client_for(analyst).get(url).content.decode()
    as_reviewer = client_for(reviewer).get(url).content.decode()

    # then
    assert tab not in as_analyst
    assert tab in as_reviewer


def test_snapshot_list_query_count_does_not_grow_with_snapshots(
    project: Project,
    owner: Any,
    client_for: Any,
    django_capture_on_commit_callbacks: Any,
    django_assert_num_queries: Any,
) -> None:
    # given
    label_items(project, ["spam"])
    client = client_for(owner)
    for _ in range(3):
        post_form(client, project, django_capture_on_commit_callbacks)
    Snapshot.objects.create(project=project, created_by=owner)

    # when / then: session, user, project, role, labels, versions, count, page
    with django_assert_num_queries(7):
        response = client.get(reverse("datasets:snapshot-list", args=[project.slug]))
    assert response.status_code == 200


def test_make_snapshot_twice_makes_one_and_says_it_is_being_built(
    project: Project, owner: Any, client_for: Any
) -> None:
    # given a first press whose snapshot no worker built yet (the test never commits, so its task waits)
    label_items(project, ["spam", "ham"])
    client = client_for(owner)
    url = reverse("datasets:snapshot-list", args=[project.slug])
    page = client.get(url).content.decode()
    client.post(url, FORM, headers={"HX-Request": "true"})

    # when the button is pressed again
    second = client.post(url, FORM, headers={"HX-Request": "true"})
    after = client.get(url).content.decode()

    # then the button disables itself while it works; one snapshot, whose row polls, and the page says so
    snapshot = Snapshot.objects.get(project=project)
    assert 'hx-disabled-elt="find button[type=submit]"' in page
    assert "Starting…" in page
    assert second["HX-Redirect"] == url
    assert f"Snapshot #{snapshot.pk} of the same data is already being built" in after
    assert f'id="snapshot-{snapshot.pk}" hx-get=' in after


def test_snapshot_form_of_inferred_labels_without_an_inference_run_says_so_and_makes_nothing(
    project: Project, owner: Any, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    label_items(project, ["spam"])

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).post(
            reverse("datasets:snapshot-list", args=[project.slug]),
            {**FORM, "policy": "inferred"},
            headers={"HX-Request": "true"},
        )

    # then
    assert response.status_code == 422
    assert escape(ERROR_NO_INFERENCE) in response.content.decode()
    assert not Snapshot.objects.exists()


def test_snapshot_form_of_inferred_labels_without_suspects_shows_both_on_the_version(
    project: Project, owner: Any, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    first, second = label_items(project, ["spam", "ham"])
    inference_run_with(project, {first: ("spam", 0.9, [0.1, 0.9]), second: ("ham", 0.95, [0.95, 0.05])})
    label_error_scan_with(project, [first])
    client = client_for(owner)

    # when
    response = post_form(
        client, project, django_capture_on_commit_callbacks, policy="inferred", exclude_label_errors="on"
    )
    page = client.get(reverse("datasets:snapshot-detail", args=[project.slug, 1]))

    # then
    assert response.status_code == 302
    snapshot = Snapshot.objects.get()
    assert (snapshot.policy, snapshot.exclude_label_errors, snapshot.row_count) == ("inferred", True, 1)
    html = page.content.decode()
    assert '#1 <span class="muted">(dawid_skene 1, one_coin)</span>' in html
    assert "1 flagged by scan #1, 1 left out" in html
