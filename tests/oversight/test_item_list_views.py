"""The items page (the item browser): its filters through the page, the htmx rows region, refused filters
shown on the form, and the bulk actions with their confirmation and counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from core.pagination import CappedPaginator
from oversight.models import ReviewRequest
from projects.models import Item
from tests.labeling.factories import AnnotationFactory
from tests.oversight.conftest import BROWSER_CASES, BrowserWorld
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = pytest.mark.django_db

URL = "/projects/browse/items/"
HTMX = {"HX-Request": "true"}


def _listed(response: Any) -> str:
    return "".join(item.external_id for item in response.context["page"])


@pytest.mark.parametrize(("query", "expected"), [(q, e) for _, q, e in BROWSER_CASES],
                         ids=[name for name, _, _ in BROWSER_CASES])  # fmt: skip
def test_the_page_lists_what_the_endpoint_lists(
    query: Callable[[BrowserWorld], dict[str, Any]], expected: str, browser_world: BrowserWorld,
    client_for: Callable[..., Client],
) -> None:  # fmt: skip
    # when
    response = client_for(browser_world.owner).get(URL, query(browser_world))

    # then
    assert response.status_code == 200
    assert (_listed(response), response.context["page"].paginator.count) == (expected, len(expected))


def test_the_page_and_its_htmx_rows(browser_world: BrowserWorld, client_for: Callable[..., Client]) -> None:
    # given
    client = client_for(browser_world.owner)

    # when
    full = client.get(URL, {"q": "pills"})
    partial = client.get(URL, {"q": "pills"}, headers=HTMX)

    # then
    full_html, partial_html = full.content.decode(), partial.content.decode()
    assert "<html" in full_html
    assert '<form class="filters"' in full_html
    assert 'name="confidence_min"' in full_html
    assert "<html" not in partial_html
    assert partial_html.strip().startswith('<div id="rows">')
    assert ">a</a>" in partial_html
    assert ">d</a>" in partial_html
    assert ">b</a>" not in partial_html
    assert '<p class="muted" id="item-count">2 items</p>' in partial_html
    assert "Send to review" in partial_html
    assert partial["Vary"] == "HX-Request, Cookie"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?itme=5", "Unknown filter: itme."),
        ("?label=eggs", "Select a valid choice."),
    ],
)
def test_a_refused_filter_is_shown_on_the_page_and_lists_nothing(
    query: str, message: str, browser_world: BrowserWorld, client_for: Callable[..., Client]
) -> None:
    # when
    response = client_for(browser_world.owner).get(URL + query)

    # then
    assert response.status_code == 200
    assert message in response.content.decode()
    assert _listed(response) == ""


def test_an_analyst_sees_only_the_filters_she_may_use_and_no_bulk_action(
    browser_world: BrowserWorld, client_for: Callable[..., Client]
) -> None:
    # given
    client = client_for(browser_world.analyst)

    # when
    page = client.get(URL)
    refused = client.get(URL, {"weak_label": "spam"})

    # then
    html = page.content.decode()
    assert [field.name for field in page.context["filter"].shown_fields()] == [
        "q",
        "external_id",
        "split",
        "labeled",
    ]
    assert 'name="weak_label"' not in html
    assert "Send to review" not in html
    assert "This filter is not available to your role." in refused.content.decode()
    assert _listed(refused) == ""


def test_sending_the_filtered_items_to_review_from_the_page(
    browser_world: BrowserWorld, client_for: Callable[..., Client]
) -> None:
    # when
    response = client_for(browser_world.reviewer).post(
        f"{URL}bulk/?label=spam", {"action": "review"}, headers=HTMX
    )

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sent 2 of 3 items to review. Left as they were: 1 have a gold label already." in html
    assert html.strip().startswith('<div id="rows">')
    assert ReviewRequest.objects.filter(status="open").count() == 2


def test_deleting_from_the_page_shows_the_count_and_deletes_on_confirmation(
    browser_world: BrowserWorld, client_for: Callable[..., Client]
) -> None:
    # given
    client = client_for(browser_world.owner)

    # when
    asked = client.post(f"{URL}bulk/?split=test", {"action": "delete"}, headers=HTMX)
    kept = Item.objects.count()
    done = client.post(f"{URL}bulk/?split=test", {"action": "delete", "confirm": "2"}, headers=HTMX)

    # then
    assert (asked.status_code, kept) == (200, 5)
    assert 'id="confirm-delete"' in asked.content.decode()
    assert "Delete 2 items" in asked.content.decode()
    assert done.status_code == 200
    assert "Deleted 2 items." in done.content.decode()
    assert sorted(Item.objects.values_list("external_id", flat=True)) == ["a", "b", "d"]


def test_a_stale_confirmation_deletes_nothing(
    browser_world: BrowserWorld, client_for: Callable[..., Client]
) -> None:
    # when
    response = client_for(browser_world.owner).post(
        f"{URL}bulk/?split=test", {"action": "delete", "confirm": "5"}
    )

    # then
    assert response.status_code == 422
    assert "The selection holds 2 items: confirm that count to delete them." in response.content.decode()
    assert Item.objects.count() == 5


@pytest.mark.parametrize("action", ["review", "gold_check", "delete"])
def test_an_analyst_may_take_no_bulk_action(
    action: str, browser_world: BrowserWorld, client_for: Callable[..., Client]
) -> None:
    # when
    response = client_for(browser_world.analyst).post(f"{URL}bulk/", {"action": action, "confirm": "5"})

    # then
    assert response.status_code == 403
    assert (Item.objects.count(), ReviewRequest.objects.filter(status="open").count()) == (5, 1)


@pytest.mark.parametrize("items", [1, 10])
def test_the_page_runs_as_many_queries_for_ten_items_as_for_one(
    items: int, client_for: Callable[..., Client], member_factory: Callable[..., Any],
    django_assert_max_num_queries: Any,
) -> None:  # fmt: skip
    # given
    project = ProjectFactory()
    client = client_for(member_factory(project, "analyst").user)
    for item in ItemFactory.create_batch(items, project=project):
        AnnotationFactory(item=item)
    client.get(f"/projects/{project.slug}/items/")

    # when: session, user, access, count, page (with the answer counts in it)
    with django_assert_max_num_queries(5):
        response = client.get(f"/projects/{project.slug}/items/")

    # then
    assert response.context["page"].paginator.count == items


def test_a_big_selection_says_more_than_the_cap_and_offers_no_bulk_action(
    browser_world: BrowserWorld, client_for: Callable[..., Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a cap of 3 (10,000 in use)
    monkeypatch.setattr(CappedPaginator, "cap", 3)

    # when
    html = client_for(browser_world.owner).get(URL, headers=HTMX).content.decode()

    # then
    assert '<p class="muted" id="item-count">More than 3 items</p>' in html
    assert 'id="bulk-too-many"' in html
    assert "Send to review" not in html
