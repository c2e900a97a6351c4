"""A reviewer adjudicates disagreements in a real browser with the keyboard, and the analyst sees the feedback."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from labeling.models import GoldLabel, InteractionEvent
from labeling.services.annotations import annotation_submit
from oversight.models import ReviewRequest
from projects.choices import Role
from projects.models import Membership
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _current_item(page: Page) -> int:
    return int(page.get_attribute("#review-panel", "data-item-id") or 0)


def _wait_for_other_item(page: Page, before: int) -> int:
    page.wait_for_function(
        f"() => {{ const p = document.getElementById('review-panel'); return p && p.dataset.itemId !== '{before}'; }}"
    )
    return _current_item(page)


def test_a_reviewer_adjudicates_with_the_keyboard_and_the_analyst_sees_the_feedback(
    member_factory: Callable[..., Membership],
    logged_in_page: Callable[[Membership], Page],
    live_server: object,
) -> None:
    # given three items on which two analysts disagree
    project = ProjectFactory(overlap=2, review_audit_rate=0.0)
    items = ItemFactory.create_batch(3, project=project)
    alice, bob = member_factory(project, Role.ANALYST), member_factory(project, Role.ANALYST)
    for item in items:
        for member, label in ((alice, "ham"), (bob, "spam")):
            annotation_submit(
                project=project, user=member.user, item_id=item.pk, labels=[label], client_uuid=uuid.uuid4()
            )
    reviewer = member_factory(project, Role.REVIEWER)
    page = logged_in_page(reviewer)
    base = f"{live_server.url}/projects/{project.slug}"  # type: ignore[attr-defined]
    page.goto(f"{base}/review/")
    assert _current_item(page) == items[0].pk
    assert page.locator("#review-annotations tbody tr").count() == 2

    # when: 2 (spam) then Enter decides the first item
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    assert _wait_for_other_item(page, items[0].pk) == items[1].pk
    # N writes a note, Esc leaves the note, 1 (ham), G makes it a gold check, Enter decides
    page.keyboard.press("n")
    page.keyboard.type("Asks for a meeting: not spam")
    page.keyboard.press("Escape")
    page.keyboard.press("1")
    page.keyboard.press("g")
    page.keyboard.press("Enter")
    assert _wait_for_other_item(page, items[1].pk) == items[2].pk
    # P passes the third item to another reviewer
    page.keyboard.press("p")
    page.wait_for_selector("text=Nothing to review")

    # then the database holds the two decisions with their provenance, and the pass
    golds = {gold.item_id: gold for gold in GoldLabel.objects.all()}
    assert {item_id: gold.labels for item_id, gold in golds.items()} == {
        items[0].pk: ["spam"],
        items[1].pk: ["ham"],
    }
    assert golds[items[1].pk].note == "Asks for a meeting: not spam"
    assert (golds[items[0].pk].is_check, golds[items[1].pk].is_check) == (False, True)
    assert all(gold.decided_by == reviewer.user for gold in golds.values())
    assert sorted(row["annotator"] for row in golds[items[0].pk].based_on) == sorted(
        [alice.user.username, bob.user.username]
    )
    third = ReviewRequest.objects.get(item=items[2])
    assert third.status == ReviewRequest.Status.OPEN
    assert list(third.passed_by.all()) == [reviewer.user]
    events = InteractionEvent.objects.filter(type="review").order_by("id")
    assert all(event.payload["dwell_ms"] is not None for event in events)

    # and Bob, who said spam to the second item, sees the reviewer's note on his feedback page
    bob_page = logged_in_page(bob)
    bob_page.goto(f"{base}/feedback/")
    row = bob_page.locator("#feedback tbody tr.disagreed")
    assert row.count() == 1
    assert "Asks for a meeting: not spam" in row.inner_text()
