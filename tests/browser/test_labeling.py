"""An analyst labels in a real browser, with the keyboard alone; the database holds exactly what they did."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection
from playwright.sync_api import Page

from labeling.choices import EventType
from labeling.models import Annotation, Assignment, Flag, InteractionEvent
from projects.choices import Role
from projects.models import Membership
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _current_item(page: Page) -> int:
    return int(page.get_attribute("#labeling-panel", "data-item-id") or 0)


def _press_and_wait_for_next(page: Page, key: str) -> int:
    before = _current_item(page)
    page.keyboard.press(key)
    page.wait_for_function(
        f"() => {{ const p = document.getElementById('labeling-panel'); return p && p.dataset.itemId !== '{before}'; }}"
    )
    return _current_item(page)


def test_an_analyst_labels_twenty_items_with_the_keyboard_alone(
    member_factory: Callable[..., Membership],
    logged_in_page: Callable[[Membership], Page],
    live_server: object,
) -> None:
    # given a project of 25 items and an analyst on the labeling page
    project = ProjectFactory()
    items = ItemFactory.create_batch(25, project=project)
    analyst = member_factory(project, Role.ANALYST)
    page = logged_in_page(analyst)
    page.goto(f"{live_server.url}/projects/{project.slug}/label/")  # type: ignore[attr-defined]
    assert _current_item(page) == items[0].pk

    # when: 20 answers by hotkey (1 = ham, 2 = spam, alternating)
    for index in range(20):
        _press_and_wait_for_next(page, "1" if index % 2 == 0 else "2")
    # U takes back the 20th answer and shows its item again
    page.keyboard.press("u")
    page.wait_for_selector("text=Undone: you had answered")
    assert _current_item(page) == items[19].pk
    # S skips it
    _press_and_wait_for_next(page, "s")
    assert _current_item(page) == items[20].pk
    # F flags the next one with a comment (Enter sends), then 1 answers it
    page.keyboard.press("f")
    page.keyboard.type("Two messages in one")
    page.keyboard.press("Enter")
    page.wait_for_selector("#flash >> text=Flagged for review")
    _press_and_wait_for_next(page, "1")

    # then the database holds exactly 20 annotations: items 1-19 and 21, by hotkey, with browser timings
    annotations = Annotation.objects.filter(project=project, annotator=analyst.user)
    expected = {item.pk: ("ham" if index % 2 == 0 else "spam") for index, item in enumerate(items[:19])}
    expected[items[20].pk] = "ham"
    assert {a.item_id: a.labels[0] for a in annotations} == expected
    assert all(a.lead_time_ms is not None and a.lead_time_ms >= 0 for a in annotations)
    assert Assignment.objects.get(item=items[19], user=analyst.user).status == Assignment.Status.SKIPPED
    flag = Flag.objects.get()
    assert (flag.item_id, flag.comment) == (items[20].pk, "Two messages in one")
    events = InteractionEvent.objects.filter(project=project, user=analyst.user)
    counts = Counter(events.exclude(type=EventType.VIEW).values_list("type", flat=True))
    assert counts == {EventType.SUBMIT: 21, EventType.UNDO: 1, EventType.SKIP: 1, EventType.FLAG: 1}
    methods = set(events.exclude(type=EventType.VIEW).values_list("payload__input_method", flat=True))
    assert methods == {"hotkey"}
    undo = events.get(type=EventType.UNDO)
    assert (undo.item_id, undo.payload["labels"]) == (items[19].pk, ["spam"])
    assert all(e.client_ts is not None for e in events.exclude(type=EventType.VIEW))


def test_two_analysts_in_parallel_never_get_the_same_item(
    member_factory: Callable[..., Membership],
    logged_in_page: Callable[[Membership], Page],
    live_server: object,
) -> None:
    if connection.vendor == "sqlite":
        # pytest-django's in-memory SQLite is one connection shared by the live server's threads.
        pytest.skip("two analysts at once need a real database server: run with --real-services")
    # given overlap 1 and two analysts on the labeling page at once
    project = ProjectFactory(overlap=1)
    ItemFactory.create_batch(30, project=project)
    pages = [logged_in_page(member_factory(project, Role.ANALYST)) for _ in range(2)]
    for page in pages:
        page.goto(f"{live_server.url}/projects/{project.slug}/label/")  # type: ignore[attr-defined]

    # when they label in turns, each pressing before the other's answer comes back
    seen: list[list[int]] = [[_current_item(page)] for page in pages]
    for _ in range(10):
        for page in pages:
            page.keyboard.press("1")
        for index, page in enumerate(pages):
            page.wait_for_function(
                f"() => document.getElementById('labeling-panel').dataset.itemId !== '{seen[index][-1]}'"
            )
            seen[index].append(_current_item(page))

    # then no item was shown to both, and each item has at most one annotation
    assert not set(seen[0]) & set(seen[1])
    per_item = Counter(Annotation.objects.filter(project=project).values_list("item_id", flat=True))
    assert sum(per_item.values()) == 20
    assert max(per_item.values()) == 1


def test_item_text_with_script_and_html_renders_as_text(
    member_factory: Callable[..., Membership],
    logged_in_page: Callable[[Membership], Page],
    live_server: object,
) -> None:
    # given
    project = ProjectFactory()
    text = '<script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2"><b>bold?</b>'
    ItemFactory(project=project, text=text)
    page = logged_in_page(member_factory(project, Role.ANALYST))

    # when
    page.goto(f"{live_server.url}/projects/{project.slug}/label/")  # type: ignore[attr-defined]

    # then
    assert page.inner_text("#item-text") == text
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#item-text b, #item-text img, #item-text script").count() == 0


def test_a_rationale_selected_with_the_mouse_is_stored_with_its_offsets(
    member_factory: Callable[..., Membership],
    logged_in_page: Callable[[Membership], Page],
    live_server: object,
) -> None:
    # given
    project = ProjectFactory()
    item = ItemFactory(project=project, text="Hello 🙂 you WON a free cruise, reply now")
    page = logged_in_page(member_factory(project, Role.ANALYST))
    page.goto(f"{live_server.url}/projects/{project.slug}/label/")  # type: ignore[attr-defined]

    # when the analyst selects "WON a free cruise" and presses 2 (spam)
    page.evaluate(
        """() => {
            const node = document.getElementById('item-text').firstChild;
            const start = node.textContent.indexOf('WON');
            const range = document.createRange();
            range.setStart(node, start);
            range.setEnd(node, start + 'WON a free cruise'.length);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
        }"""
    )
    page.dispatch_event("#item-text", "mouseup")
    page.wait_for_selector("#item-text mark")
    page.keyboard.press("2")
    page.wait_for_selector("text=Nothing left for you here")

    # then: offsets count code points (the emoji is one), as Python does
    rationale = Annotation.objects.get(item=item).rationales.get()
    assert (rationale.quote, rationale.label) == ("WON a free cruise", "spam")
    assert item.text[rationale.start : rationale.end] == "WON a free cruise"
    assert rationale.start == 12


def test_the_flagged_banner_shows_on_the_flagged_item_only(
    member_factory: Callable[..., Membership],
    logged_in_page: Callable[[Membership], Page],
    live_server: object,
) -> None:
    # given an analyst who flags the first of three items
    project = ProjectFactory()
    items = ItemFactory.create_batch(3, project=project)
    page = logged_in_page(member_factory(project, Role.ANALYST))
    page.goto(f"{live_server.url}/projects/{project.slug}/label/")  # type: ignore[attr-defined]
    page.keyboard.press("f")
    page.keyboard.type("Not English")
    page.keyboard.press("Enter")
    page.wait_for_selector("#flash >> text=Flagged for review")

    # when she answers it and goes on to the next item
    assert _press_and_wait_for_next(page, "1") == items[1].pk

    # then the banner is gone, and stays gone on the item after
    assert page.locator("#flash").inner_text() == ""
    assert _press_and_wait_for_next(page, "1") == items[2].pk
    assert page.locator("#flash .flash").count() == 0
