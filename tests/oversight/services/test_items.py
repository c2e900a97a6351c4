"""Bulk actions on the item browser's selection: counts, the size limit, an empty selection, confirmation."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from oversight.services import items as bulk
from oversight.services.items import BulkResult, items_delete, items_gold_check_set, items_review_send
from projects.models import Item
from tests.oversight.conftest import BrowserWorld

pytestmark = pytest.mark.django_db


def _items(world: BrowserWorld, *names: str) -> QuerySet[Item]:
    return Item.objects.filter(project=world.project, external_id__in=names)


def test_review_leaves_out_items_with_gold_and_those_sent_already(browser_world: BrowserWorld) -> None:
    # given a, c (gold) and e
    selection = _items(browser_world, "a", "c", "e")

    # when
    first = items_review_send(project=browser_world.project, items=selection, note="why")
    second = items_review_send(project=browser_world.project, items=selection)

    # then
    assert first == BulkResult(selected=3, changed=2, skipped={"has_gold": 1, "in_queue": 0})
    assert second == BulkResult(selected=3, changed=0, skipped={"has_gold": 1, "in_queue": 2})


def test_gold_checks_are_set_on_gold_labels_only(browser_world: BrowserWorld) -> None:
    # when
    result = items_gold_check_set(project=browser_world.project, items=_items(browser_world, "b", "c", "d"))

    # then
    assert result == BulkResult(selected=3, changed=1, skipped={"no_gold": 1, "already": 1})


def test_a_selection_over_the_limit_is_refused_and_nothing_changes(
    browser_world: BrowserWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    monkeypatch.setattr(bulk, "BULK_LIMIT", 4)

    # when
    with pytest.raises(ValidationError) as refused:
        items_delete(project=browser_world.project, items=Item.objects.all(), confirm=5)

    # then
    assert refused.value.code == "too_many"
    assert Item.objects.count() == 5


@pytest.mark.parametrize(("confirm", "code"), [(None, "confirm"), (1, "confirm")])
def test_a_delete_without_the_right_count_deletes_nothing(
    confirm: int | None, code: str, browser_world: BrowserWorld
) -> None:
    # when
    with pytest.raises(ValidationError) as refused:
        items_delete(project=browser_world.project, items=_items(browser_world, "a", "b"), confirm=confirm)

    # then
    assert (refused.value.code, refused.value.messages) == (
        code, ["The selection holds 2 items: confirm that count to delete them."]
    )  # fmt: skip
    assert Item.objects.count() == 5


def test_an_empty_selection_is_refused(browser_world: BrowserWorld) -> None:
    # when
    with pytest.raises(ValidationError) as refused:
        items_review_send(project=browser_world.project, items=Item.objects.none())

    # then
    assert refused.value.messages == ["No item matches the filter."]
