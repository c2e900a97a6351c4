"""Labeling functions and runs in the browser: wiring, permissions, errors (behaviour lives in service tests)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from labeling.models import GoldLabel
from oversight.choices import SourceKind
from projects.choices import Role
from projects.models import Item, Membership, Project
from tests.labeling.factories import AnnotationFactory
from tests.oversight.factories import InferenceRunFactory, source_entry
from tests.projects.factories import ItemFactory, ProjectFactory
from tests.weak_supervision.factories import (
    keyword_lf,
    project_with_uncovered_test_items,
    span_lf,
    span_project,
)
from weak_supervision.choices import EndModelStatus, RunStatus
from weak_supervision.models import LabelingFunction, LabelModelRun
from weak_supervision.services.runs import run_start

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _rule(**fields: str) -> dict[str, str]:
    return {"name": "prize", "kind": "keyword", "label": "spam", "keywords": "prize, win", "mode": "any",
            "whole_words": "on", "operator": "eq", **fields}  # fmt: skip


def test_a_data_scientist_previews_then_saves_a_rule(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    ItemFactory(project=project, text="You <b>win</b> a prize")
    ItemFactory(project=project, text="lunch")
    client = client_for(member_factory(project, Role.DATA_SCIENTIST).user)

    # when
    preview = client.post(f"/projects/{project.slug}/labeling-functions/preview/", _rule(), headers=HTMX)
    saved = client.post(f"/projects/{project.slug}/labeling-functions/new/", _rule(), headers=HTMX)

    # then
    html = preview.content.decode()
    assert "coverage (1 of 2)" in html
    assert "You &lt;b&gt;" in html
    assert "<mark>win</mark>" in html
    lf = LabelingFunction.objects.get()
    assert saved["HX-Redirect"] == f"/projects/{project.slug}/labeling-functions/{lf.pk}/"
    assert lf.current_version.spec["keywords"] == ["prize", "win"]  # type: ignore[union-attr]


def test_editing_saves_a_new_version_and_a_bad_rule_is_a_422(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    lf = keyword_lf(project, "prize", "spam", "prize")
    client = client_for(member_factory(project, Role.OWNER).user)
    url = f"/projects/{project.slug}/labeling-functions/{lf.pk}/"

    edited = client.post(url, _rule(keywords="prize\nfree"), headers=HTMX)
    bad = client.post(url, _rule(keywords=" , "), headers=HTMX)
    page = client.get(url)

    assert edited.status_code == 200
    assert bad.status_code == 422
    lf.refresh_from_db()
    assert lf.current_version.number == 2  # type: ignore[union-attr]
    assert "v2" in page.content.decode()
    assert "A keyword rule needs at least one keyword." in bad.content.decode()


def test_runs_page_starts_a_run_and_shows_its_analysis(
    project: Project,
    client_for: Callable[..., Client],
    member_factory: Callable[..., Membership],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given
    for index in range(6):
        AnnotationFactory(item=ItemFactory(project=project, text="free prize" if index % 2 else "home"),
                          labels=["spam" if index % 2 else "ham"])  # fmt: skip
    for name, label, word in [("a", "spam", "free"), ("b", "spam", "prize"), ("c", "ham", "home")]:
        keyword_lf(project, name, label, word)
    client = client_for(member_factory(project, Role.DATA_SCIENTIST).user)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"/projects/{project.slug}/runs/", {}, headers=HTMX)
    detail = client.get(f"/projects/{project.slug}/runs/1/")
    sorted_table = client.get(f"/projects/{project.slug}/runs/1/?sort=-coverage", headers=HTMX)
    history = client.get(f"/projects/{project.slug}/runs/")

    # then
    assert started["HX-Redirect"] == f"/projects/{project.slug}/runs/1/"
    html = detail.content.decode()
    assert "Succeeded" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html
    assert sorted_table.content.decode().lstrip().startswith('<table class="table" id="analysis-table">')
    assert "#1" in history.content.decode()
    # the aggregator that delivered the labels, and every candidate with its scores
    assert 'id="aggregator-choice"' in html
    assert 'id="aggregator-table"' in html
    assert "majority_vote (delivered)" in html  # six gold items: too few to choose on, the default
    # six items are too few for the end model: the page says so, and stops polling
    assert 'id="end-model-status"' in html
    assert "fewer than 10 covered training items" in html
    assert 'hx-trigger="every 1s"' not in html


def test_the_run_page_polls_while_the_end_model_is_pending(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given a succeeded run whose end model has not been trained yet
    metrics = {"splits": {}, "end_model": {"status": EndModelStatus.PENDING}}
    run = LabelModelRun.objects.create(project=project, number=1, status=RunStatus.SUCCEEDED, metrics=metrics)
    client = client_for(member_factory(project, Role.DATA_SCIENTIST).user)

    # when
    html = client.get(f"/projects/{project.slug}/runs/{run.number}/").content.decode()

    # then
    assert 'hx-trigger="every 1s"' in html
    assert "pending" in html


def test_the_run_page_says_who_answers_for_each_region(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given a run whose end model answers alone for uncovered items and with the aggregator for covered ones
    fill = {
        "takes": True,
        "combines": False,
        "answered_by": "end_model",
        "n_heldout": 15,
        "end_model": 0.64,
        "aggregator": 0.29,
        "combined": 0.6,
        "reason": "on held-out uncovered gold, the end model answers",
    }
    override = {
        "takes": True,
        "combines": True,
        "answered_by": "combined",
        "n_heldout": 105,
        "end_model": 0.9,
        "aggregator": 0.88,
        "combined": 0.95,
        "reason": "on held-out covered gold, the end model and the aggregator answer together",
    }
    end_model = {
        "status": EndModelStatus.SUCCEEDED,
        "fills_uncovered": True,
        "overrides_covered": True,
        "fill": fill,
        "override": override,
        "features": "hybrid",
        "C": 1.0,
        "selected_on": "valid",
    }
    run = LabelModelRun.objects.create(project=project, number=1, status=RunStatus.SUCCEEDED,
                                       metrics={"splits": {}, "end_model": end_model})  # fmt: skip
    client = client_for(member_factory(project, Role.DATA_SCIENTIST).user)

    # when
    html = client.get(f"/projects/{project.slug}/runs/{run.number}/").content.decode()

    # then
    assert "Uncovered items: the end model labels them" in html
    assert "end model 64.0%, aggregator 29.0%, together 60.0% on 15 items" in html
    assert "Covered items: the end model and the aggregator label them together" in html
    assert "together 95.0% on 105 items" in html


def test_a_run_that_cannot_start_says_why(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    client = client_for(member_factory(project, Role.OWNER).user)
    response = client.post(f"/projects/{project.slug}/runs/", {}, headers=HTMX)
    assert response.status_code == 422
    assert "A run needs at least 3 active labeling function" in response.content.decode()
    assert LabelModelRun.objects.count() == 0


def test_analysts_cannot_write_rules_or_start_runs(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    client = client_for(member_factory(project, Role.ANALYST).user)

    new = client.post(f"/projects/{project.slug}/labeling-functions/new/", _rule(), headers=HTMX)
    run = client.post(f"/projects/{project.slug}/runs/", {}, headers=HTMX)

    assert (new.status_code, run.status_code) == (403, 403)
    assert LabelingFunction.objects.count() == 0
    assert LabelModelRun.objects.count() == 0


def test_the_item_page_shows_the_label_models_answer(
    project: Project,
    client_for: Callable[..., Client],
    member_factory: Callable[..., Membership],
    django_capture_on_commit_callbacks: Any,
) -> None:
    items = [ItemFactory(project=project, text="free prize" if index % 2 else "home") for index in range(6)]
    for name, label, word in [("a", "spam", "free"), ("b", "spam", "prize"), ("c", "ham", "home")]:
        keyword_lf(project, name, label, word)
    client = client_for(member_factory(project, Role.OWNER).user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/projects/{project.slug}/runs/", {}, headers=HTMX)

    html = client.get(f"/projects/{project.slug}/items/{items[1].pk}/").content.decode()

    assert 'id="weak-label"' in html
    assert "<b>spam</b> with confidence" in html


def test_the_item_page_shows_the_end_models_answer_where_no_lf_voted(
    client_for: Callable[..., Client],
    member_factory: Callable[..., Membership],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a run whose LFs cover the train items, and whose end model answers for the uncovered test items
    project = project_with_uncovered_test_items()
    client = client_for(member_factory(project, Role.OWNER).user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/projects/{project.slug}/runs/", {}, headers=HTMX)
    uncovered = Item.objects.get(project=project, external_id="t0")

    # when
    html = client.get(f"/projects/{project.slug}/items/{uncovered.pk}/").content.decode()

    # then
    assert "no labeling function voted; end model: <b>spam</b> with confidence" in html


def test_toggling_an_unknown_lf_is_a_404(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    client = client_for(member_factory(project, Role.OWNER).user)
    response = client.post(f"/projects/{project.slug}/labeling-functions/999/toggle/", headers=HTMX)
    assert response.status_code == 404


def test_the_start_button_disables_itself_and_a_second_start_shows_the_run_under_way(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given a run that no worker took yet (the test never commits, so its task waits)
    ItemFactory.create_batch(3, project=project)
    for name in ("a", "b", "c"):
        keyword_lf(project, name, "spam", name)
    client = client_for(member_factory(project, Role.DATA_SCIENTIST).user)
    page = client.get(f"/projects/{project.slug}/runs/").content.decode()
    client.post(f"/projects/{project.slug}/runs/", {}, headers=HTMX)

    # when the button is pressed again
    second = client.post(f"/projects/{project.slug}/runs/", {}, headers=HTMX)
    detail = client.get(f"/projects/{project.slug}/runs/1/").content.decode()

    # then the button disables itself and shows that it works; the second press leads to the run under way,
    # whose page polls and says so
    assert 'hx-disabled-elt="find button[type=submit]"' in page
    assert "Starting…" in page
    assert second["HX-Redirect"] == f"/projects/{project.slug}/runs/1/"
    assert LabelModelRun.objects.filter(project=project).count() == 1
    assert "Run #1 is already under way: here it is." in detail
    assert 'hx-trigger="every 1s"' in detail


def test_the_run_page_shows_each_lfs_estimated_accuracy_beside_its_empirical_one(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given a run's analysis of two LFs, and a truth-inference run (oversight) that estimated one of them
    prize = keyword_lf(project, "prize", "spam", "prize")
    home = keyword_lf(project, "home", "ham", "home")
    analysis = [
        {"lf": prize.pk, "name": "prize", "coverage": 0.5, "empirical_accuracy": 0.75},
        {"lf": home.pk, "name": "home", "coverage": 0.25, "empirical_accuracy": 0.5},
    ]
    run = LabelModelRun.objects.create(
        project=project, number=1, status=RunStatus.SUCCEEDED, lf_analysis=analysis
    )
    client = client_for(member_factory(project, Role.REVIEWER).user)
    before = client.get(f"/projects/{project.slug}/runs/{run.number}/").content.decode()
    InferenceRunFactory(
        project=project, number=3,
        sources=[source_entry(SourceKind.LABELING_FUNCTION, "prize", 0.812, lf_id=prize.pk, interval=[0.7, 0.9])],
    )  # fmt: skip

    # when
    html = client.get(f"/projects/{project.slug}/runs/{run.number}/").content.decode()
    by_estimate = client.get(
        f"/projects/{project.slug}/runs/{run.number}/?sort=-estimated_accuracy", headers=HTMX
    ).content.decode()

    # then
    assert "Estimated accuracy" not in before
    assert f'<a href="/projects/{project.slug}/inference/">inference #3</a>' in html
    assert '<td class="estimated-accuracy">81.2% <span class="muted">[70.0%\u201390.0%]</span></td>' in html
    assert '<td class="estimated-accuracy">\u2013</td>' in html  # home: not estimated
    assert by_estimate.index("<td>prize</td>") < by_estimate.index("<td>home</td>")


def test_a_span_lf_preview_highlights_its_spans_and_a_metadata_rule_is_refused(
    client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given a span project: a regex whose group is the entity
    project = ProjectFactory(kind="spans", labels=["per", "loc"])
    item = ItemFactory(project=project, text="Anna <b>met</b> Carl Dahl")
    GoldLabel.objects.create(
        project=project,
        item=item,
        labels=["per"],
        spans=[{"start": 15, "end": 24, "label": "per", "text": "Carl Dahl"}],
    )
    ItemFactory(project=project, text="nobody here")
    client = client_for(member_factory(project, Role.DATA_SCIENTIST).user)
    rule = {"name": "met", "kind": "regex", "label": "per", "pattern": r"met</b> (\w+ \w+)", "operator": "eq"}

    # when
    preview = client.post(f"/projects/{project.slug}/labeling-functions/preview/", rule, headers=HTMX)
    metadata = client.post(
        f"/projects/{project.slug}/labeling-functions/new/",
        {**rule, "kind": "metadata", "field": "x", "value": "1"},
        headers=HTMX,
    )

    # then
    html = preview.content.decode()
    assert "of items marked (1 of 2)" in html
    assert (
        'Anna &lt;b&gt;met&lt;/b&gt; <mark class="span" data-label="per" title="per">Carl Dahl<sub>per</sub></mark>'
        in html
    )
    assert "precision on 1 spans in 1 gold items" in html
    assert metadata.status_code == 422
    assert not LabelingFunction.objects.filter(project=project).exists()


def test_a_span_run_page_shows_span_scores_per_split(
    client_for: Callable[..., Client],
    member_factory: Callable[..., Membership],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a finished span run
    project = span_project("ner-page")
    span_lf(project, "places", "keyword", "loc", {"keywords": ["Oslo", "Paris", "Rome"]})
    with django_capture_on_commit_callbacks(execute=True):
        run = run_start(project=project, user=None)
    client = client_for(member_factory(project, Role.DATA_SCIENTIST).user)

    # when
    page = client.get(f"/projects/{project.slug}/runs/{run.number}/")

    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert "Delivered span precision" in html
    assert "test span F1" in html
    assert "loc 100.0%" in html
