"""An analyst marks entity spans in a real browser, by keyboard and by mouse; the database holds the spans
with code-point offsets of the stored text (emoji and CRLF included)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from playwright.sync_api import Page

from labeling.choices import EventType
from labeling.models import Annotation, InteractionEvent
from projects.choices import ProjectKind, Role
from projects.models import Membership
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _current_item(page: Page) -> int:
    return int(page.get_attribute("#labeling-panel", "data-item-id") or 0)


def _wait_for_next(page: Page, before: int) -> None:
    page.wait_for_function(
        f"() => {{ const p = document.getElementById('labeling-panel'); return p && p.dataset.itemId !== '{before}'; }}"
    )


def test_an_analyst_marks_spans_with_the_keyboard_and_the_mouse(
    member_factory: Callable[..., Membership],
    logged_in_page: Callable[[Membership], Page],
    live_server: object,
) -> None:
    # given a span project (PER = 1, LOC = 2) with an emoji-and-CRLF text, a plain one and one with nothing
    project = ProjectFactory(kind=ProjectKind.SPANS, labels=["per", "loc"])
    first = ItemFactory(project=project, text="Hi 😀 Ada Lovelace\r\nlives in London .")
    second = ItemFactory(project=project, text="Paris and Rome are far apart")
    third = ItemFactory(project=project, text="nothing to see here")
    fourth = ItemFactory(project=project, text="New York City")
    analyst = member_factory(project, Role.ANALYST)
    page = logged_in_page(analyst)
    page.goto(f"{live_server.url}/projects/{project.slug}/label/")  # type: ignore[attr-defined]
    assert _current_item(page) == first.pk

    # when: → selects the first token ("Hi"), →→ moves to "Ada", Shift+→ grows to "Ada Lovelace", 1 marks PER
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.text_content("#span-status") == "Selected “Ada”."
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("1")
    # "London" by keyboard too (→ goes on from the span just marked), as LOC; then "in London" overlaps it
    # and is refused
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert page.text_content("#span-status") == "Selected “London”."
    page.keyboard.press("2")
    page.keyboard.press("ArrowLeft")  # "in"
    page.keyboard.press("Shift+ArrowRight")  # "in London" overlaps the London span
    page.keyboard.press("2")
    assert "overlaps" in (page.text_content("#span-status") or "")
    page.keyboard.press("Escape")
    before = _current_item(page)
    page.keyboard.press("Enter")
    _wait_for_next(page, before)

    # the mouse: select "Pari" inside "Paris" (snaps to the token), 2 marks LOC; "Rome" likewise; a click
    # on Paris picks it, 1 retypes it as PER, then Tab picks Rome and Delete removes it
    page.evaluate(
        """() => {
            const segs = [...document.querySelectorAll('#span-text .seg')];
            const paris = segs.find((s) => s.textContent === 'Paris');
            const range = document.createRange();
            range.setStart(paris.firstChild, 0);
            range.setEnd(paris.firstChild, 4);
            const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
            paris.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
        }"""
    )
    assert page.text_content("#span-status") == "Selected “Paris”: press a type's key."
    page.keyboard.press("2")
    page.evaluate(
        """() => {
            const rome = [...document.querySelectorAll('#span-text .seg')].find((s) => s.textContent === 'Rome');
            const range = document.createRange(); range.selectNodeContents(rome);
            const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
            rome.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
        }"""
    )
    page.click("[data-span-type='loc']")
    page.click("#span-text .seg.in-span >> nth=0")
    page.keyboard.press("1")
    page.keyboard.press("Tab")
    page.keyboard.press("Delete")
    before = _current_item(page)
    page.keyboard.press("Enter")
    _wait_for_next(page, before)

    # "no entities": Enter on the third item; on the fourth, Alt+Shift+→ moves the start by one character
    before = _current_item(page)
    page.keyboard.press("Enter")
    _wait_for_next(page, before)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Alt+Shift+ArrowRight")
    assert page.text_content("#span-status") == "Selected “ew”."
    page.keyboard.press("1")
    before = _current_item(page)
    page.keyboard.press("Enter")
    _wait_for_next(page, before)
    # U brings the fourth back with its span drawn again
    page.keyboard.press("u")
    page.wait_for_selector("text=Undone")
    assert _current_item(page) == fourth.pk
    assert page.locator("#span-list li[data-span]").count() == 1

    # then the spans are stored with code-point offsets of the stored text and the quotes
    connection.close()
    answers = {a.item_id: a for a in Annotation.objects.filter(project=project, annotator=analyst.user)}
    assert answers[first.pk].spans == [
        {"start": 5, "end": 17, "label": "per", "text": "Ada Lovelace"},
        {"start": 28, "end": 34, "label": "loc", "text": "London"},
    ]
    assert first.text[5:17] == "Ada Lovelace"
    assert first.text[28:34] == "London"
    assert answers[first.pk].labels == ["per", "loc"]
    assert answers[second.pk].spans == [{"start": 0, "end": 5, "label": "per", "text": "Paris"}]
    assert (answers[third.pk].spans, answers[third.pk].labels) == ([], [])
    assert fourth.pk not in answers
    events = InteractionEvent.objects.filter(project=project, user=analyst.user).exclude(type=EventType.VIEW)
    undo = events.get(type=EventType.UNDO)
    assert undo.payload["spans"] == [{"start": 1, "end": 3, "label": "per", "text": "ew"}]
    assert set(events.values_list("payload__input_method", flat=True)) == {"hotkey"}
