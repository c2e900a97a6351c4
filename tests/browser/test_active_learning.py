"""An analyst labels in a real browser while the model suggests: Enter accepts its suggestion, a label key
overrides it, and both are recorded; a data scientist then sees the model and simulates strategies."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from active_learning.models import LearnerModel, Simulation
from active_learning.services.training import (
    learner_retrain,
    learner_settings_update,
)
from labeling.choices import EventType
from labeling.models import Annotation, InteractionEvent
from projects.choices import Role, Split
from projects.models import Item, Membership, Project
from tests.integration.conftest import CeleryWorker
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SPAM = ["win a free prize now", "free cash offer click here", "claim your free reward today"]
HAM = ["see you at lunch tomorrow", "the meeting moved to monday", "thanks for the notes from class"]


def _trained_project(worker: CeleryWorker) -> Project:
    """A project whose first model the session's worker has trained (the retrain is handed to it on commit)."""
    project = ProjectFactory()
    for index in range(40):
        spam = index % 2 == 0
        item = ItemFactory(project=project, text=f"{(SPAM if spam else HAM)[index % 3]} {index}",
                           split=Split.TEST if index % 5 == 0 else Split.TRAIN)  # fmt: skip
        if index < 20:
            AnnotationFactory(item=item, labels=["spam" if spam else "ham"])
            Item.objects.filter(pk=item.pk).update(remaining=0)
    learner_settings_update(project=project, show_suggestions=True, retrain_every=1000)
    model = learner_retrain(project=project)
    deadline = time.monotonic() + 60
    while not model.is_finished and time.monotonic() < deadline:
        time.sleep(0.2)
        model.refresh_from_db()
    assert model.status == "succeeded", model.error or worker.log_tail()
    return project


def _item_id(page: Page) -> int:
    return int(page.get_attribute("#labeling-panel", "data-item-id") or 0)


def _next(page: Page, before: int) -> int:
    page.wait_for_function(
        f"() => {{ const p = document.getElementById('labeling-panel'); return p && p.dataset.itemId !== '{before}'; }}"
    )
    return _item_id(page)


def test_enter_accepts_the_suggestion_and_a_label_key_rejects_it(
    member_factory: Callable[..., Membership],
    logged_in_page: Callable[[Membership], Page],
    live_server: object,
    celery_worker_process: CeleryWorker,
) -> None:
    # given a trained model whose suggestions the project shows
    project = _trained_project(celery_worker_process)
    analyst = member_factory(project, Role.ANALYST)
    page = logged_in_page(analyst)
    page.goto(f"{live_server.url}/projects/{project.slug}/label/")  # type: ignore[attr-defined]
    first = _item_id(page)
    expect(page.locator("#suggestion")).to_contain_text("suggests")
    suggested = page.get_attribute("[data-accept-suggestion]", "value")

    # when Enter accepts it, and on the next item the key of the other label is pressed
    page.keyboard.press("Enter")
    second = _next(page, first)
    other = page.get_attribute("[data-accept-suggestion]", "value")
    page.keyboard.press("1" if other == "spam" else "2")
    _next(page, second)

    # then both answers are stored, and the events say which suggestion was accepted and which rejected
    assert Annotation.objects.get(item_id=first, annotator=analyst.user).labels == [suggested]
    assert Annotation.objects.get(item_id=second, annotator=analyst.user).labels == [
        "ham" if other == "spam" else "spam"
    ]
    events = InteractionEvent.objects.filter(user=analyst.user).exclude(
        type__in=[EventType.VIEW, EventType.SUBMIT]
    )
    kinds = [(event.item_id, event.type) for event in events.order_by("pk")]
    assert (first, EventType.SUGGESTION_SHOWN) in kinds
    assert (first, EventType.SUGGESTION_ACCEPTED) in kinds
    assert (second, EventType.SUGGESTION_REJECTED) in kinds
    assert events.get(type=EventType.SUGGESTION_REJECTED).payload["suggested"] == other


def test_a_data_scientist_sees_the_model_and_runs_a_simulation(
    member_factory: Callable[..., Membership],
    logged_in_page: Callable[[Membership], Page],
    live_server: object,
    celery_worker_process: CeleryWorker,
) -> None:
    # given a project with a trained model
    project = _trained_project(celery_worker_process)
    scientist = member_factory(project, Role.DATA_SCIENTIST)
    page = logged_in_page(scientist)
    page.goto(f"{live_server.url}/projects/{project.slug}/active-learning/")  # type: ignore[attr-defined]
    expect(page.locator("#model-1")).to_contain_text("Succeeded")
    expect(page.locator("#learning-curve svg")).to_be_visible()

    # when a simulation of two strategies is started from the form
    form = page.locator("#simulation-form")
    expect(form.locator("input[value=adaptive]")).to_be_checked()  # the default and the baseline
    expect(form.locator("input[value=random]")).to_be_checked()
    form.locator("input[value=margin]").check()
    form.locator("input[name=budget]").fill("10")
    form.locator("input[name=step]").fill("5")
    form.locator("input[name=seeds]").fill("1")
    form.locator("button[type=submit]").click()

    # then the worker runs it and its result shows on the page
    expect(page.locator(".simulation")).to_have_count(1)
    simulation = Simulation.objects.get(project=project)
    deadline = time.monotonic() + 30
    while simulation.status in {"pending", "running"} and time.monotonic() < deadline:
        time.sleep(0.2)
        simulation.refresh_from_db()
    assert simulation.status == "succeeded", simulation.error or celery_worker_process.log_tail()
    expect(page.locator(".simulation").first).to_contain_text("Succeeded")
    assert set(simulation.result["strategies"]) == {"adaptive", "random", "margin"}
    expect(page.locator(".simulation").first).to_contain_text("project default")
    assert LearnerModel.objects.filter(project=project).count() == 1
