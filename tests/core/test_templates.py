"""The shared page furniture: flash messages by level, and the house rule for numbers (core.templatetags)."""

from __future__ import annotations

import re

import pytest
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.template.loader import render_to_string
from django.test import RequestFactory

from core.templatetags.number_format import MINUS, MISSING, coefficient, count, percent, points, seconds


@pytest.mark.parametrize(
    ("level", "css", "role"),
    [
        (messages.SUCCESS, "message-success", "status"),
        (messages.INFO, "message-info", "status"),
        (messages.WARNING, "message-warning", "alert"),
        (messages.ERROR, "message-error", "alert"),
    ],
)
def test_a_flash_message_is_styled_by_level_announced_and_dismissible(
    level: int, css: str, role: str
) -> None:
    # given
    request = RequestFactory().get("/")
    storage = CookieStorage(request)
    storage.add(level, "Settings <saved>.")

    # when
    html = render_to_string("components/messages.html", {"messages": storage})

    # then
    box = re.search(r'<div class="message ([^"]+)" role="([^"]+)" data-message>', html)
    assert box is not None
    assert (box.group(1), box.group(2)) == (css, role)
    assert "Settings &lt;saved&gt;." in html
    assert 'aria-label="Dismiss this message" data-message-close' in html


def test_no_messages_render_nothing() -> None:
    assert render_to_string("components/messages.html", {"messages": []}).strip() == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.4969, "49.7%"),
        (0.497, "49.7%"),
        (1, "100.0%"),
        (0, "0.0%"),
        (-0.05, MINUS + "5.0%"),
        (None, MISSING),
        ("", MISSING),
    ],
)
def test_proportions_are_percentages_with_one_decimal(value: object, expected: str) -> None:
    assert percent(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(3000, "3,000"), (1234567, "1,234,567"), (0, "0"), (None, MISSING)]
)
def test_counts_have_thousands_separators(value: object, expected: str) -> None:
    assert count(value) == expected


def test_coefficients_points_and_seconds() -> None:
    assert [coefficient(0.41234), coefficient(-0.125), coefficient(None)] == ["0.41", MINUS + "0.12", MISSING]
    assert [points(0.032), points(-0.1), points(None)] == ["+3.2 pts", MINUS + "10.0 pts", MISSING]
    assert [seconds(1.26), seconds(1300, "ms"), seconds(None)] == ["1.3 s", "1.3 s", MISSING]
