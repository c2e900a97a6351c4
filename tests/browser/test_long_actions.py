"""Every long action's button (a run, a retrain, a snapshot, an import) shows that it works the moment it is
pressed: it disables itself and says so while the request is under way, a double click sends one request and
makes one job, and the job's status area then polls until the job (on the session's worker) is done."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, Route, expect

from active_learning.models import LearnerModel
from datasets.models import Snapshot
from projects.choices import Role, Split
from projects.models import ImportJob, Item, Membership, Project
from tests.datasets.factories import label_items
from tests.integration.conftest import CeleryWorker
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory
from tests.weak_supervision.factories import keyword_lf
from weak_supervision.models import LabelModelRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

JOB_TIMEOUT_MS = 60_000
CSV = b"id,text\nb1,free prize inside\nb2,see you at lunch\nb3,claim your reward\n"


def _press_and_hold(page: Page, form: str, path: str) -> None:
    """Double-clicks the form's start button while its POST is held back, and checks what shows meanwhile:
    the button disabled, the busy label visible, one request sent. Then lets the request through."""
    held: list[Route] = []
    posts: list[str] = []
    pattern = re.compile(re.escape(path) + "$")
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.route(
        pattern, lambda route: held.append(route) if route.request.method == "POST" else route.continue_()
    )
    button = page.locator(f"{form} [data-start-button]")
    expect(page.locator(f"{form} [data-busy]")).to_be_hidden()

    button.dblclick()

    expect(button).to_be_disabled()
    expect(page.locator(f"{form} [data-busy]")).to_be_visible()
    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    page.wait_for_timeout(300)  # time for a second request, were the double click to send one
    assert (len(held), len(posts)) == (1, 1)
    held[0].continue_()
    page.unroute(pattern)


def _runnable_project() -> Project:
    project = ProjectFactory()
    for index in range(30):
        spam = index % 3 == 0
        item = ItemFactory(project=project, text="free prize" if spam else f"lunch at home {index}",
                           split=Split.TEST if index % 2 else Split.TRAIN)  # fmt: skip
        AnnotationFactory(item=item, labels=["spam" if spam else "ham"])
    keyword_lf(project, "free", "spam", "free")
    keyword_lf(project, "prize", "spam", "prize")
    keyword_lf(project, "home", "ham", "home", "lunch")
    return project


def test_starting_a_run_shows_it_at_once_and_its_page_polls_until_it_is_done(
    member_factory: Callable[..., Membership],
    logged_in_page: Callable[[Membership], Page],
    live_server: object,
    celery_worker_process: CeleryWorker,
) -> None:
    # given a data scientist on the runs page
    project = _runnable_project()
    page = logged_in_page(member_factory(project, Role.DATA_SCIENTIST))
    page.goto(f"{live_server.url}/projects/{project.slug}/runs/")  # type: ignore[attr-defined]

    # when the start button is double-clicked
    _press_and_hold(page, "#run-start-form", f"/projects/{project.slug}/runs/")

    # then the run's page follows it until it is done; one run was made
    page.wait_for_url(re.compile(r"/runs/1/$"))
    expect(page.locator("#run-status .status").first).to_have_text("Succeeded", timeout=JOB_TIMEOUT_MS)
    assert LabelModelRun.objects.filter(project=project).count() == 1


def test_retrain_now_shows_it_at_once_and_the_model_row_polls_until_it_is_done(
    member_factory: Callable[..., Membership],
    logged_in_page: Callable[[Membership], Page],
    live_server: object,
    celery_worker_process: CeleryWorker,
) -> None:
    # given a project with gold labels, and a data scientist on its active-learning page
    project = ProjectFactory()
    for index in range(40):
        spam = index % 2 == 0
        item = ItemFactory(project=project, text=f"{'free cash prize' if spam else 'lunch on monday'} {index}",
                           split=Split.TEST if index % 5 == 0 else Split.TRAIN)  # fmt: skip
        if index < 20:
            AnnotationFactory(item=item, labels=["spam" if spam else "ham"])
            Item.objects.filter(pk=item.pk).update(remaining=0)
    page = logged_in_page(member_factory(project, Role.DATA_SCIENTIST))
    page.goto(f"{live_server.url}/projects/{project.slug}/active-learning/")  # type: ignore[attr-defined]

    # when "Retrain now" is double-clicked
    _press_and_hold(page, "#retrain-form", f"/projects/{project.slug}/active-learning/retrain/")

    # then the model's row follows it until it is done; one model was trained
    expect(page.locator("#model-1 .status")).to_have_text("Succeeded", timeout=JOB_TIMEOUT_MS)
    assert LearnerModel.objects.filter(project=project).count() == 1


def test_make_snapshot_shows_it_at_once_and_its_row_polls_until_it_is_built(
    member_factory: Callable[..., Membership],
    logged_in_page: Callable[[Membership], Page],
    live_server: object,
    celery_worker_process: CeleryWorker,
) -> None:
    # given labeled items, and an owner on the datasets page
    project = ProjectFactory()
    label_items(project, ["spam", "ham"] * 5)
    page = logged_in_page(member_factory(project, Role.OWNER))
    page.goto(f"{live_server.url}/projects/{project.slug}/datasets/")  # type: ignore[attr-defined]
    page.fill("#create-form input[name=fewshot_k]", "")

    # when "Make snapshot" is double-clicked
    _press_and_hold(page, "#create-form", f"/projects/{project.slug}/datasets/")

    # then its row follows it until it is built; one snapshot was made
    snapshot_row = page.locator("#snapshot-table tbody tr").first
    expect(snapshot_row.locator(".status")).to_have_text("Succeeded", timeout=JOB_TIMEOUT_MS)
    assert Snapshot.objects.filter(project=project).count() == 1


def test_an_import_shows_it_at_once_and_its_page_polls_until_it_is_done(
    member_factory: Callable[..., Membership],
    logged_in_page: Callable[[Membership], Page],
    live_server: object,
    celery_worker_process: CeleryWorker,
) -> None:
    # given a data scientist on the imports page, with a file chosen
    project = ProjectFactory()
    page = logged_in_page(member_factory(project, Role.DATA_SCIENTIST))
    page.goto(f"{live_server.url}/projects/{project.slug}/imports/")  # type: ignore[attr-defined]
    page.set_input_files(
        "#upload-form input[name=file]", {"name": "items.csv", "mimeType": "text/csv", "buffer": CSV}
    )
    page.fill("#upload-form input[name=id_field]", "id")

    # when "Import" is double-clicked
    _press_and_hold(page, "#upload-form", f"/projects/{project.slug}/imports/")

    # then the import's page follows it until it is done; one import was made
    page.wait_for_url(re.compile(r"/imports/\d+/$"))
    expect(page.locator("#progress .status")).to_have_text("Succeeded", timeout=JOB_TIMEOUT_MS)
    assert ImportJob.objects.filter(project=project).count() == 1
    assert Item.objects.filter(project=project).count() == 3
