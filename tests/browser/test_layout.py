"""Pages fit a 1366 px wide laptop screen: wide tables scroll inside their box and tracebacks wrap, so the page
itself never scrolls sideways. And flash messages can be dismissed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone
from playwright.sync_api import Page

from active_learning.models import LearnerModel, Simulation
from projects.choices import ImportFormat, ImportStatus, Role
from projects.models import ImportJob, Membership, Project
from tests.projects.factories import ItemFactory, ProjectFactory
from weak_supervision.models import LabelModelRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 1366, 768
LONG_NAME = "support_tickets_export_2025_11_all_regions_with_every_metadata_column_and_no_line_breaks_v3.csv"
TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/sandbox/lf_runner/very/deeply/nested/package/path/that/goes/on/and/on/lf_code.py", line 12, in '
    "vote_on_item_with_a_very_long_function_name_that_keeps_going\n"
    "    return LABELS[item.metadata['customer_segment_identifier_with_a_long_name']]"
    + "['x']" * 60
    + "\nKeyError: '"
    + "customer_segment_" * 20
    + "'"
)


def _page_width(page: Page, url: str) -> int:
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    page.goto(url)
    return int(page.evaluate("document.documentElement.scrollWidth"))


@pytest.fixture
def data_scientist_page(
    member_factory: Callable[..., Membership], logged_in_page: Callable[[Membership], Page]
) -> Callable[[Project], Page]:
    return lambda project: logged_in_page(member_factory(project, Role.DATA_SCIENTIST))


def test_the_imports_page_fits_1366_px(
    data_scientist_page: Callable[[Project], Page], live_server: object
) -> None:
    # given imports with long file names, big counts and a long error
    project = ProjectFactory()
    for status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED, ImportStatus.RUNNING):
        ImportJob.objects.create(
            project=project, status=status, format=ImportFormat.CSV, original_name=LONG_NAME,
            rows_total=1_234_567, items_created=1_234_000, error=TRACEBACK if status == "failed" else "",
        )  # fmt: skip

    # when
    page = data_scientist_page(project)
    width = _page_width(page, f"{live_server.url}/projects/{project.slug}/imports/")  # type: ignore[attr-defined]

    # then
    assert page.locator("#jobs tbody tr").count() == 3
    assert width <= WIDTH


def test_the_active_learning_models_table_fits_1366_px(
    data_scientist_page: Callable[[Project], Page], live_server: object
) -> None:
    # given finished models with every column filled in, and a failed one with its error
    project = ProjectFactory()
    ItemFactory.create_batch(
        3, project=project, text="https://example.com/" + "a-very-long-path-segment/" * 10
    )
    Simulation.objects.create(
        project=project, status="succeeded", strategies=["uncertainty_diverse", "margin_diverse", "random"],
        budget=12_000, step=500, metric="macro_f1", finished_at=timezone.now(),
        result={"metric": "macro_f1", "full_train": 0.81234, "default": "random", "strategies": {
            name: {"labels_to_95": 4_500, "curve": [[500, 0.41234], [12_000, 0.79876]]}
            for name in ("uncertainty_diverse", "margin_diverse", "random")
        }},
    )  # fmt: skip
    for number, status in enumerate(("succeeded", "succeeded", "failed"), start=1):
        LearnerModel.objects.create(
            project=project, number=number, status=status, strategy="uncertainty_diverse", features="tfidf",
            n_labels=123_456, n_weak=1_234_567, prioritized=1_234_567, finished_at=timezone.now(),
            metrics={"accuracy": 0.4969, "macro_f1": 0.4812, "brier": 0.31234567},
            evidence={"n_audit": 12_345, "z": -1.23456, "exploit_share": 0.8123},
            seconds={"train": 12.3456, "score_chunks": 123.456, "finish": 1.2345},
            error=TRACEBACK if status == "failed" else "",
        )  # fmt: skip

    # when
    page = data_scientist_page(project)
    width = _page_width(page, f"{live_server.url}/projects/{project.slug}/active-learning/")  # type: ignore[attr-defined]

    # then
    assert page.locator("#model-table tbody tr").count() == 3
    assert width <= WIDTH
    # and the models table fits its own box too: nothing hides behind a scroll bar at this width
    table, box = page.evaluate(
        "() => { const t = document.getElementById('model-table');"
        " return [t.scrollWidth, t.parentElement.clientWidth]; }"
    )
    assert table <= box


def test_a_python_lf_traceback_wraps_inside_its_box_at_1366_px(
    data_scientist_page: Callable[[Project], Page], live_server: object
) -> None:
    # given a failed run, and a labeling function whose Python raised, both with long traceback lines
    project = ProjectFactory()
    LabelModelRun.objects.create(
        project=project, number=1, status="failed", error=TRACEBACK, finished_at=timezone.now(),
        metrics={"lf_errors": {"7": {"name": "segment_lookup", "item_id": None, "error": TRACEBACK}}},
    )  # fmt: skip

    # when
    page = data_scientist_page(project)
    width = _page_width(page, f"{live_server.url}/projects/{project.slug}/runs/1/")  # type: ignore[attr-defined]

    # then the tracebacks are there, whole, and the page does not scroll sideways
    assert page.locator("#lf-errors pre").inner_text() == TRACEBACK
    assert width <= WIDTH


def test_a_flash_message_is_announced_and_can_be_dismissed(
    member_factory: Callable[..., Membership],
    logged_in_page: Callable[[Membership], Page],
    live_server: object,
) -> None:
    # given an owner who saves the project's settings
    project = ProjectFactory()
    page = logged_in_page(member_factory(project, Role.OWNER))
    page.goto(f"{live_server.url}/projects/{project.slug}/settings/")  # type: ignore[attr-defined]
    page.click("button:has-text('Save')")

    # when the page says so
    message = page.locator(".message-success[role=status]")
    assert message.inner_text().startswith("Settings saved.")

    # then its close button takes it away
    page.click("[data-message-close]")
    assert page.locator(".messages").count() == 0
