"""The items endpoint (the item browser's filters and sorts) and its bulk actions, with their counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from core.pagination import CappedPaginator
from labeling.models import Annotation, GoldLabel
from oversight.models import ReviewRequest
from projects.models import Item
from tests.oversight.conftest import BROWSER_CASES, BrowserWorld

pytestmark = pytest.mark.django_db

URL = "/api/projects/browse/items/"


def _names(response: Any) -> str:
    return "".join(row["external_id"] for row in response.data["results"])


@pytest.mark.parametrize(("query", "expected"), [(q, e) for _, q, e in BROWSER_CASES],
                         ids=[name for name, _, _ in BROWSER_CASES])  # fmt: skip
def test_every_filter_and_sort_lists_its_items(
    query: Callable[[BrowserWorld], dict[str, Any]], expected: str, browser_world: BrowserWorld,
    api_client_for: Callable[..., APIClient],
) -> None:  # fmt: skip
    # given
    client = api_client_for(browser_world.owner)

    # when
    response = client.get(URL, query(browser_world))

    # then
    assert response.status_code == 200, response.data
    assert (_names(response), response.data["count"]) == (expected, len(expected))


def test_rows_carry_the_items_fields_and_their_answer_counts(
    browser_world: BrowserWorld, api_client_for: Callable[..., APIClient]
) -> None:
    # when
    response = api_client_for(browser_world.owner).get(URL, {"page_size": 2, "page": 2})

    # then
    assert response.status_code == 200
    assert [(row["external_id"], row["split"], row["annotation_count"]) for row in response.data["results"]] == [
        ("c", "test", 0), ("d", "", 1),
    ]  # fmt: skip
    assert set(response.data["results"][0]) == {
        "id", "external_id", "text", "metadata", "content_hash", "split", "priority", "remaining",
        "annotation_count", "created_at",
    }  # fmt: skip
    assert response.data["next"] == f"http://testserver{URL}?page=3&page_size=2"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        pytest.param({"itme": "5"}, "itme", id="unknown-filter"),
        pytest.param({"label": "eggs"}, "label", id="unknown-label"),
        pytest.param({"split": "holdout"}, "split", id="bad-split"),
        pytest.param({"annotator": "999999"}, "annotator", id="not-a-member"),
        pytest.param({"confidence_min": "1.5"}, "confidence_min", id="confidence-out-of-range"),
        pytest.param({"lf_vote": "spam"}, "lf_vote", id="vote-without-lf"),
        pytest.param({"ordering": "text"}, "ordering", id="unknown-ordering"),
        pytest.param({"disagreement": "maybe"}, "disagreement", id="not-a-boolean"),
    ],
)
def test_a_refused_filter_is_a_400_naming_it(
    query: dict[str, str], field: str, browser_world: BrowserWorld, api_client_for: Callable[..., APIClient]
) -> None:
    # when
    response = api_client_for(browser_world.owner).get(URL, query)

    # then
    assert response.status_code == 400
    assert list(response.data) == [field]


def test_an_analyst_may_not_filter_by_others_answers_or_the_models(
    browser_world: BrowserWorld, api_client_for: Callable[..., APIClient]
) -> None:
    # given
    client = api_client_for(browser_world.analyst)

    # when
    refused = {name: client.get(URL, {name: value}) for name, value in [
        ("label", "spam"), ("annotator", str(browser_world.other.pk)), ("gold", "any"), ("flagged", "true"),
        ("weak_label", "spam"), ("confidence_min", "0.5"), ("ordering", "confidence"),
    ]}  # fmt: skip
    allowed = client.get(URL, {"split": "train", "labeled": "true", "q": "pills"})

    # then
    assert {name: (r.status_code, r.data[name]) for name, r in refused.items()} == dict.fromkeys(
        refused, (400, ["This filter is not available to your role."])
    )
    assert (allowed.status_code, _names(allowed)) == (200, "a")


# --- bulk actions --------------------------------------------------------------------------------------------
def test_sending_a_selection_to_review_counts_what_it_did(
    browser_world: BrowserWorld, api_client_for: Callable[..., APIClient]
) -> None:
    # given the items with a spam answer or gold: a (new), b (in review already), c (has gold)
    client = api_client_for(browser_world.reviewer)

    # when
    first = client.post(f"{URL}review/?label=spam", {"note": "check these"}, format="json")
    again = client.post(f"{URL}review/?label=spam", {}, format="json")

    # then
    assert first.status_code == 200
    assert first.data == {"selected": 3, "changed": 2, "skipped": {"has_gold": 1, "in_queue": 0}}
    assert again.data == {"selected": 3, "changed": 0, "skipped": {"has_gold": 1, "in_queue": 2}}
    opened = ReviewRequest.objects.filter(status="open").order_by("item_id")
    assert [(r.item.external_id, r.reasons) for r in opened] == [
        ("a", ["manual"]),
        ("b", ["disagreement", "manual"]),
    ]
    assert opened[0].detail == {"manual": {"note": "check these"}}


def test_setting_a_selection_as_gold_checks_counts_what_it_did(
    browser_world: BrowserWorld, api_client_for: Callable[..., APIClient]
) -> None:
    # when the owner makes every test-split or labeled item a gold check
    response = api_client_for(browser_world.owner).post(f"{URL}gold-checks/?split=test")
    everything = api_client_for(browser_world.owner).post(f"{URL}gold-checks/")

    # then c became one, e has no gold; then d was one already
    assert response.status_code == 200
    assert response.data == {"selected": 2, "changed": 1, "skipped": {"no_gold": 1, "already": 0}}
    assert everything.data == {"selected": 5, "changed": 0, "skipped": {"no_gold": 3, "already": 2}}
    assert sorted(GoldLabel.objects.filter(is_check=True).values_list("item__external_id", flat=True)) == [
        "c",
        "d",
    ]


def test_deleting_a_selection_asks_for_its_count_first(
    browser_world: BrowserWorld, api_client_for: Callable[..., APIClient]
) -> None:
    # given
    client = api_client_for(browser_world.owner)

    # when
    unconfirmed = client.post(f"{URL}delete/?split=train", {}, format="json")
    wrong = client.post(f"{URL}delete/?split=train", {"confirm": 3}, format="json")
    kept = Item.objects.count()
    confirmed = client.post(f"{URL}delete/?split=train", {"confirm": 2}, format="json")

    # then
    assert (unconfirmed.status_code, wrong.status_code, kept) == (400, 400, 5)
    assert unconfirmed.data == {"detail": "The selection holds 2 items: confirm that count to delete them.",
                                "code": "confirm"}  # fmt: skip
    assert confirmed.status_code == 200
    assert confirmed.data == {"selected": 2, "changed": 2, "skipped": {}}
    assert sorted(Item.objects.values_list("external_id", flat=True)) == ["c", "d", "e"]
    assert Annotation.objects.filter(item__external_id__in=["a", "b"]).count() == 0


@pytest.mark.parametrize(
    ("who", "path", "allowed"),
    [
        ("analyst", "review/", False), ("analyst", "gold-checks/", False), ("analyst", "delete/", False),
        ("reviewer", "review/", True), ("reviewer", "gold-checks/", False), ("reviewer", "delete/", False),
    ],
)  # fmt: skip
def test_bulk_actions_follow_the_roles(
    who: str, path: str, allowed: bool, browser_world: BrowserWorld, api_client_for: Callable[..., APIClient]
) -> None:
    # given
    user = browser_world.analyst if who == "analyst" else browser_world.reviewer
    requests = ReviewRequest.objects.count()

    # when
    response = api_client_for(user).post(f"{URL}{path}?external_id=a", {"confirm": 1}, format="json")

    # then
    assert response.status_code == (200 if allowed else 403)
    if not allowed:
        assert (Item.objects.count(), ReviewRequest.objects.count()) == (5, requests)
        assert GoldLabel.objects.filter(is_check=True).count() == 1


def test_a_bulk_action_refuses_a_bad_filter_and_an_empty_selection(
    browser_world: BrowserWorld, api_client_for: Callable[..., APIClient]
) -> None:
    # given
    client = api_client_for(browser_world.owner)

    # when
    unknown = client.post(f"{URL}review/?itme=5", {}, format="json")
    empty = client.post(f"{URL}review/?external_id=nope", {}, format="json")

    # then
    assert unknown.status_code == 400
    assert "itme" in str(unknown.data)
    assert (empty.status_code, empty.data["detail"]) == (400, "No item matches the filter.")


def test_a_big_selection_is_counted_up_to_the_cap(
    browser_world: BrowserWorld, api_client_for: Callable[..., APIClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a cap of 3 (10,000 in use)
    monkeypatch.setattr(CappedPaginator, "cap", 3)
    client = api_client_for(browser_world.owner)

    # when
    big = client.get(URL, {"page_size": 2})
    small = client.get(URL, {"q": "pills"})

    # then
    assert (big.data["count"], big.data["count_capped"], _names(big)) == (3, True, "ab")
    assert big.data["next"] is not None
    assert (small.data["count"], small.data["count_capped"]) == (2, False)
