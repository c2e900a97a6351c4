"""The review app's FilterSets read alike by their page and their API (core.filtersets): gold labels on the
gold page and endpoint; review requests on their endpoint (the review page hands out one item, no list)."""

from __future__ import annotations

import pytest

from labeling.choices import GoldSource
from oversight.models import ReviewRequest
from tests.doors import doors_of
from tests.labeling.factories import GoldLabelFactory
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_gold_labels_same_rows_on_page_and_api() -> None:
    # given
    project = ProjectFactory()
    client, api_client = doors_of(project)
    known = GoldLabelFactory(
        item=ItemFactory(project=project, external_id="known-1"), source=GoldSource.KNOWN
    )
    GoldLabelFactory(
        item=ItemFactory(project=project, external_id="judged-1"),
        source=GoldSource.ADJUDICATED,
        is_check=False,
    )

    # when
    page = client.get(f"/projects/{project.slug}/gold/?source=known&is_check=true")
    fragment = client.get(f"/projects/{project.slug}/gold/?source=known", headers={"HX-Request": "true"})
    api = api_client.get(f"/api/projects/{project.slug}/gold/?source=known&is_check=true")

    # then
    assert page.status_code == 200
    assert "known-1" in page.content.decode()
    assert "judged-1" not in page.content.decode()
    assert 'id="rows"' in fragment.content.decode()
    assert "judged-1" not in fragment.content.decode()
    assert api.status_code == 200
    assert [row["item"] for row in api.json()["results"]] == [known.item_id]


def test_gold_labels_bad_value_refused_on_page_and_api() -> None:
    # given
    project = ProjectFactory()
    client, api_client = doors_of(project)
    GoldLabelFactory(item=ItemFactory(project=project, external_id="known-1"))

    # when
    page = client.get(f"/projects/{project.slug}/gold/?is_check=maybe")
    api = api_client.get(f"/api/projects/{project.slug}/gold/?is_check=maybe")

    # then
    assert api.status_code == 400
    assert "is_check" in api.json()
    assert page.status_code == 200
    assert "has-error" in page.content.decode()
    assert "known-1" not in page.content.decode()


def test_review_requests_filter_by_status_open_by_default() -> None:
    # given
    project = ProjectFactory()
    _, api_client = doors_of(project)
    open_request = ReviewRequest.objects.create(project=project, item=ItemFactory(project=project))
    resolved = ReviewRequest.objects.create(
        project=project, item=ItemFactory(project=project), status=ReviewRequest.Status.RESOLVED
    )
    url = f"/api/projects/{project.slug}/review/requests/"

    # when
    default = api_client.get(url)
    resolved_only = api_client.get(f"{url}?status=resolved")
    by_item = api_client.get(f"{url}?status=resolved&item={open_request.item_id}")

    # then
    assert [row["id"] for row in default.json()["results"]] == [open_request.pk]
    assert [row["id"] for row in resolved_only.json()["results"]] == [resolved.pk]
    assert by_item.json()["results"] == []


def test_review_requests_bad_value_refused() -> None:
    # given
    project = ProjectFactory()
    _, api_client = doors_of(project)

    # when
    bad_status = api_client.get(f"/api/projects/{project.slug}/review/requests/?status=nope")
    unknown = api_client.get(f"/api/projects/{project.slug}/review/requests/?reason=flag")

    # then
    assert bad_status.status_code == 400
    assert "status" in bad_status.json()
    assert unknown.status_code == 400
    assert "reason" in unknown.json()
