"""Playwright for Python driving Debian's Chromium, headless, against pytest-django's live server.

No browser is downloaded: the tests use /usr/bin/chromium (apt). Where it is missing they skip with a
clear message, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from projects.models import Membership
from tests.plugins.real_services import in_ci

CHROMIUM = Path(os.environ.get("OVERSIGHT_CHROMIUM", "/usr/bin/chromium"))
PASSWORD = "password123"  # tests.projects.factories.UserFactory's

# Playwright's sync API runs an event loop in this thread; the tests' own ORM calls are plain sync code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file() and not shutil.which("chromium"):
        message = f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)."
        if in_ci():
            pytest.fail(f"{message} (CI=true: browser tests may not be skipped)", pytrace=False)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield browser
        browser.close()


@pytest.fixture
def logged_in_page(browser: Browser, live_server: object) -> Iterator[Callable[[Membership], Page]]:
    """logged_in_page(membership) -> a page in its own browser context, logged in through the login form."""
    contexts = []

    def open_page(membership: Membership) -> Page:
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{live_server.url}/accounts/login/")  # type: ignore[attr-defined]
        page.fill("input[name=username]", membership.user.username)
        page.fill("input[name=password]", PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    yield open_page
    for context in contexts:
        context.close()
