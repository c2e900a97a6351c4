"""The active-learning page: who sees and changes what, retrain and simulate from the browser."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse
from django.utils.html import escape

from active_learning.models import LearnerModel, LearnerSettings, Simulation
from features.encoders import ERROR_ENCODER_MISSING
from projects.choices import Role
from projects.models import Item, Membership, Project


def _url(name: str, project: Project, *args: Any) -> str:
    return reverse(f"active_learning:{name}", args=[project.slug, *args])


def test_the_page_shows_models_curve_next_items_and_simulations(
    corpus_project: Callable[..., Project], retrain: Any, member_factory: Callable[..., Membership],
    client_for: Any,
) -> None:  # fmt: skip
    # given a project with a trained model
    project = corpus_project(items=60, gold=30)
    model = retrain(project)
    owner = member_factory(project, Role.OWNER).user

    # when
    response = client_for(owner).get(_url("learner", project))

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="model-1"' in html
    assert "Succeeded" in html
    assert '<div class="chart" id="learning-curve"><svg' in html
    top = Item.objects.filter(project=project, remaining__gt=0).order_by("-priority", "pk").first()
    assert top is not None
    assert top.priority == 30.0
    assert html.index('id="next-items"') < html.index(f"<code>{top.external_id}</code>")  # the queue's first
    assert 'id="settings-form"' in html
    assert 'id="simulation-form"' in html
    assert model.prioritized == 30


def test_a_model_row_shows_what_the_audit_draw_said(
    corpus_project: Callable[..., Project], retrain: Any, member_factory: Callable[..., Membership],
    client_for: Any,
) -> None:  # fmt: skip
    # given a model whose audit draw found the chosen items worth less than random ones
    project = corpus_project(items=30, gold=10)
    model = retrain(project)
    evidence = {"exploit_share": 0.0, "z": -2.5, "n_audit": 12, "n_chosen": 40}
    LearnerModel.objects.filter(pk=model.pk).update(evidence=evidence)
    owner = member_factory(project, Role.OWNER).user

    # when
    row = client_for(owner).get(_url("model-row", project, model.number))

    # then
    assert row.status_code == 200
    assert "audit 12, z \u22122.50, chose 0.0%" in row.content.decode()


def test_an_analyst_may_not_see_the_page(
    project: Project, member_factory: Callable[..., Membership], client_for: Any
) -> None:
    # given
    analyst = member_factory(project, Role.ANALYST).user

    # when
    response = client_for(analyst).get(_url("learner", project))

    # then
    assert response.status_code == 403


def test_a_reviewer_sees_the_page_without_the_forms(
    project: Project, member_factory: Callable[..., Membership], client_for: Any
) -> None:
    # given
    reviewer = member_factory(project, Role.REVIEWER).user

    # when
    response = client_for(reviewer).get(_url("learner", project))
    post = client_for(reviewer).post(_url("retrain", project))

    # then
    assert response.status_code == 200
    assert 'id="settings-form"' not in response.content.decode()
    assert post.status_code == 403
    assert not LearnerModel.objects.exists()


def test_settings_are_saved_and_bad_values_are_explained(
    project: Project, member_factory: Callable[..., Membership], client_for: Any
) -> None:
    # given
    client = client_for(member_factory(project, Role.DATA_SCIENTIST).user)
    good = {"enabled": "on", "strategy": "entropy", "features": "hashed_tfidf", "retrain_every": "25",
            "batch_size": "20", "weak_min_confidence": "0.8", "show_suggestions": "on"}  # fmt: skip

    # when
    saved = client.post(_url("settings", project), good)
    refused = client.post(_url("settings", project), {**good, "retrain_every": "0", "batch_size": "5000"},
                          headers={"HX-Request": "true"})  # fmt: skip

    # then
    assert saved.status_code == 302
    settings = LearnerSettings.objects.get(project=project)
    assert (settings.strategy, settings.retrain_every, settings.batch_size) == ("entropy", 25, 20)
    assert settings.show_suggestions is True
    assert settings.use_weak_labels is False
    assert refused.status_code == 422
    html = refused.content.decode()
    assert "Retrain after at least one new annotation." in html
    assert "The batch holds between 1 and 1000 items." in html
    assert LearnerSettings.objects.get(project=project).retrain_every == 25


def test_features_whose_encoder_is_not_installed_are_a_form_error(
    project: Project, member_factory: Callable[..., Membership], client_for: Any, encoder_missing: None
) -> None:
    # given TF-IDF features, on a machine without the text encoder
    client = client_for(member_factory(project, Role.DATA_SCIENTIST).user)
    LearnerSettings.objects.create(project=project, features="hashed_tfidf")
    form = {"enabled": "on", "strategy": "adaptive", "features": "hybrid", "retrain_every": "25",
            "batch_size": "20", "weak_min_confidence": "0.8"}  # fmt: skip

    # when
    refused = client.post(_url("settings", project), form, headers={"HX-Request": "true"})

    # then
    assert refused.status_code == 422
    assert escape(ERROR_ENCODER_MISSING) in refused.content.decode()
    settings = LearnerSettings.objects.get(project=project)
    assert (settings.features, settings.retrain_every) == ("hashed_tfidf", 50)


def test_retrain_from_the_page(
    corpus_project: Callable[..., Project], member_factory: Callable[..., Membership], client_for: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    # given
    project = corpus_project(items=40, gold=20)
    client = client_for(member_factory(project, Role.OWNER).user)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("retrain", project), headers={"HX-Request": "true"})
    row = client.get(_url("model-row", project, 1))

    # then
    assert response.status_code == 200
    assert response["HX-Redirect"] == _url("learner", project)
    assert LearnerModel.objects.get(project=project).status == "succeeded"
    assert row.status_code == 200
    assert 'id="model-1"' in row.content.decode()
    assert "hx-trigger" not in row.content.decode()  # finished: the row stops polling


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"step": "300"}, "The budget and the step must be positive, with the step at most the budget."),
        ({"metric": "f1:eggs"}, "Select a valid choice. f1:eggs is not one of the available choices."),
        ({"strategies": []}, "This field is required."),
    ],
)
def test_a_bad_simulation_is_explained_and_not_recorded(
    project: Project, member_factory: Callable[..., Membership], client_for: Any, data: dict[str, Any],
    message: str,
) -> None:  # fmt: skip
    # given
    client = client_for(member_factory(project, Role.OWNER).user)
    form = {
        "strategies": ["random"],
        "budget": "100",
        "step": "10",
        "seeds": "1",
        "metric": "accuracy",
        **data,
    }

    # when
    response = client.post(_url("simulation-create", project), form, headers={"HX-Request": "true"})

    # then
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Simulation.objects.exists()


def test_a_simulation_from_the_page_shows_its_curves(
    corpus_project: Callable[..., Project], member_factory: Callable[..., Membership], client_for: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    # given
    project = corpus_project(items=60, gold=60)
    client = client_for(member_factory(project, Role.DATA_SCIENTIST).user)
    form = {"strategies": ["adaptive", "random"], "budget": "20", "step": "10", "seeds": "1",
            "metric": "f1:spam"}  # fmt: skip

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("simulation-create", project), form)
    simulation = Simulation.objects.get(project=project)
    row = client.get(_url("simulation-row", project, simulation.pk))

    # then
    assert response.status_code == 302
    assert simulation.status == "succeeded"
    assert list(simulation.result["strategies"]) == ["adaptive", "random"]
    html = row.content.decode()
    assert "project default" in html
    assert "<svg" in html


def test_retrain_now_twice_starts_one_retrain_and_says_it_is_under_way(
    corpus_project: Callable[..., Project], member_factory: Callable[..., Membership], client_for: Any
) -> None:
    # given a data scientist on the page, and a first press whose retrain no worker took yet
    project = corpus_project(items=20, gold=10)
    client = client_for(member_factory(project, Role.DATA_SCIENTIST).user)
    page = client.get(_url("learner", project)).content.decode()
    client.post(_url("retrain", project), headers={"HX-Request": "true"})

    # when it is pressed again
    second = client.post(_url("retrain", project), headers={"HX-Request": "true"})
    after = client.get(_url("learner", project)).content.decode()

    # then the button disables itself while it works; one model, whose row polls, and the page says so
    assert 'hx-disabled-elt="find button[type=submit]"' in page
    assert "Starting…" in page
    assert second["HX-Redirect"] == _url("learner", project)
    assert LearnerModel.objects.filter(project=project).count() == 1
    assert "Model 1 is already retraining: its row follows it." in after
    assert 'id="model-1" hx-get=' in after


def test_a_span_projects_page_shows_its_models_span_scores(
    span_project: Callable[..., Project], retrain: Any, member_factory: Callable[..., Membership],
    client_for: Any,
) -> None:  # fmt: skip
    # given a span project with a trained tagger (4 held-out sentences, all found)
    project = span_project(items=24, gold=16, test_every=4)
    retrain(project)
    owner = member_factory(project, Role.OWNER).user

    # when
    response = client_for(owner).get(_url("learner", project))

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert ">Span F1</th>" in html
    assert ">Macro F1</th>" not in html
    assert 'id="model-1"' in html
    assert '<div class="chart" id="learning-curve"><svg' in html
