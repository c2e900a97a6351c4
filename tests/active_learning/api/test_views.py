"""Active learning over REST: the wiring, the permissions and the error mapping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from active_learning.models import LearnerModel, LearnerSettings, Simulation
from features.encoders import ERROR_ENCODER_MISSING
from projects.choices import Role
from projects.models import Membership, Project


def _api(project: Project, path: str) -> str:
    return f"/api/projects/{project.slug}/active-learning/{path}"


def test_settings_read_and_patch(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Any
) -> None:
    # given
    client = api_client_for(member_factory(project, Role.DATA_SCIENTIST).user)

    # when
    before = client.get(_api(project, "settings/"))
    patched = client.patch(
        _api(project, "settings/"), {"strategy": "committee", "show_suggestions": True}, format="json"
    )
    refused = client.patch(
        _api(project, "settings/"), {"strategy": "psychic", "batch_size": 0}, format="json"
    )

    # then
    assert before.status_code == 200
    assert before.json() == {
        "enabled": True, "strategy": "adaptive", "features": "hybrid", "retrain_every": 50,
        "batch_size": 50, "use_weak_labels": False, "weak_min_confidence": 0.7, "show_suggestions": False,
    }  # fmt: skip
    assert patched.status_code == 200
    assert (patched.json()["strategy"], patched.json()["show_suggestions"]) == ("committee", True)
    assert refused.status_code == 400
    assert refused.json() == {
        "strategy": ['"psychic" is not a valid choice.'],
        "batch_size": ["Ensure this value is greater than or equal to 1."],
    }
    assert LearnerSettings.objects.get(project=project).strategy == "committee"


def test_features_whose_encoder_is_not_installed_answer_400_and_nothing_changes(
    corpus_project: Callable[..., Project], member_factory: Callable[..., Membership], api_client_for: Any,
    encoder_missing: None,
) -> None:  # fmt: skip
    # given a project on TF-IDF features, on a machine without the text encoder
    project = corpus_project(items=10, gold=4)
    client = api_client_for(member_factory(project, Role.DATA_SCIENTIST).user)
    LearnerSettings.objects.create(project=project, features="hashed_tfidf")

    # when
    patched = client.patch(_api(project, "settings/"), {"features": "static"}, format="json")
    LearnerSettings.objects.filter(project=project).update(features="hybrid")  # chosen before it was removed
    retrained = client.post(_api(project, "retrain/"))

    # then
    assert patched.status_code == 400
    assert patched.json() == {"features": [ERROR_ENCODER_MISSING]}
    assert retrained.status_code == 400
    assert retrained.json() == {"detail": ERROR_ENCODER_MISSING, "code": "encoder_missing"}
    assert not LearnerModel.objects.exists()


def test_an_analyst_reads_nothing_and_a_reviewer_changes_nothing(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Any
) -> None:
    # given
    analyst = api_client_for(member_factory(project, Role.ANALYST).user)
    reviewer = api_client_for(member_factory(project, Role.REVIEWER).user)

    # when
    answers = [
        analyst.get(_api(project, "curve/")).status_code,
        analyst.get(_api(project, "models/")).status_code,
        reviewer.get(_api(project, "curve/")).status_code,
        reviewer.patch(_api(project, "settings/"), {"strategy": "random"}, format="json").status_code,
        reviewer.post(_api(project, "retrain/")).status_code,
        reviewer.post(_api(project, "simulations/"), {"strategies": ["random"], "budget": 10, "step": 5},
                      format="json").status_code,
    ]  # fmt: skip

    # then
    assert answers == [403, 403, 200, 403, 403, 403]
    assert not LearnerModel.objects.exists()
    assert not Simulation.objects.exists()
    assert not LearnerSettings.objects.filter(project=project, strategy="random").exists()


def test_retrain_then_list_models_and_the_curve(
    corpus_project: Callable[..., Project], member_factory: Callable[..., Membership], api_client_for: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    # given
    project = corpus_project(items=60, gold=30)
    client = api_client_for(member_factory(project, Role.OWNER).user)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(_api(project, "retrain/"))
    models = client.get(_api(project, "models/"))
    detail = client.get(_api(project, "models/1/"))
    missing = client.get(_api(project, "models/9/"))
    curve = client.get(_api(project, "curve/"))

    # then
    assert started.status_code == 202
    assert started.json()["number"] == 1
    assert [(model["number"], model["status"]) for model in models.json()["results"]] == [(1, "succeeded")]
    assert detail.json()["status"] == "succeeded"
    assert detail.json()["metrics"]["n_heldout"] == 6
    assert missing.status_code == 404
    points = curve.json()["points"]
    assert [(point["model"], point["n_labels"], point["n_heldout"]) for point in points] == [(1, 24, 6)]


def test_a_second_retrain_while_one_runs_answers_with_the_running_one(
    corpus_project: Callable[..., Project], member_factory: Callable[..., Membership], api_client_for: Any
) -> None:
    # given a retrain that has not run yet (its task waits for the commit)
    project = corpus_project(items=20, gold=10)
    client = api_client_for(member_factory(project, Role.OWNER).user)
    first = client.post(_api(project, "retrain/"))

    # when
    second = client.post(_api(project, "retrain/"))

    # then the first started it (202), the second is answered with it (200), and there is one model
    assert (first.status_code, second.status_code) == (202, 200)
    assert (first.json()["number"], second.json()["number"]) == (1, 1)
    assert second.json()["status"] == "pending"
    assert LearnerModel.objects.filter(project=project).count() == 1


def test_simulation_create_and_read(
    corpus_project: Callable[..., Project], member_factory: Callable[..., Membership], api_client_for: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    # given
    project = corpus_project(items=60, gold=60)
    client = api_client_for(member_factory(project, Role.DATA_SCIENTIST).user)
    body = {"strategies": ["default", "random"], "budget": 20, "step": 10, "seeds": 1, "metric": "macro_f1"}

    # when
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(_api(project, "simulations/"), body, format="json")
    read = client.get(_api(project, f"simulations/{created.json()['id']}/"))
    bad = client.post(_api(project, "simulations/"), {**body, "strategies": ["psychic"]}, format="json")

    # then
    assert created.status_code == 202
    result = read.json()["result"]
    assert read.json()["status"] == "succeeded"
    assert result["metric"] == "macro_f1"
    assert result["default"] == "adaptive"
    assert list(result["strategies"]) == ["adaptive", "random"]
    assert [point[0] for point in result["strategies"]["random"]["curve"]] == [10, 20]
    assert bad.status_code == 400
    assert "Unknown strategy 'psychic'" in str(bad.json())
    assert Simulation.objects.count() == 1


def test_the_next_item_carries_the_suggestion_and_submit_records_its_fate(
    corpus_project: Callable[..., Project], retrain: Any, member_factory: Callable[..., Membership],
    api_client_for: Any,
) -> None:  # fmt: skip
    # given a trained model whose suggestions the project shows
    project = corpus_project(items=40, gold=20)
    LearnerSettings.objects.update_or_create(project=project, defaults={"show_suggestions": True})
    retrain(project)
    analyst = member_factory(project, Role.ANALYST).user
    client = api_client_for(analyst)

    # when
    nxt = client.get(f"/api/projects/{project.slug}/queue/next/").json()
    suggestion = nxt["suggestion"]
    answer = {"item_id": nxt["item"]["id"], "labels": [suggestion["label"]], "suggested_label": suggestion["label"],
              "client_uuid": "5b1f0f3a-8f0e-4b8e-9a53-1c1f5e0f0a01"}  # fmt: skip
    submitted = client.post(f"/api/projects/{project.slug}/annotations/", answer, format="json")

    # then
    assert suggestion["label"] in {"ham", "spam"}
    assert 0.5 <= suggestion["confidence"] <= 1.0
    assert suggestion["model"] == 1
    assert submitted.status_code == 201
    kinds = list(analyst.interactionevent_set.values_list("type", flat=True).order_by("pk"))
    assert kinds == ["view", "suggestion_shown", "submit", "suggestion_accepted"]


def test_a_project_that_keeps_analysts_blind_shows_them_no_suggestion(
    corpus_project: Callable[..., Project], retrain: Any, member_factory: Callable[..., Membership],
    api_client_for: Any, client_for: Any,
) -> None:  # fmt: skip
    # given a trained model whose suggestions active learning shows, in a project that keeps analysts blind
    project = corpus_project(items=40, gold=20)
    LearnerSettings.objects.update_or_create(project=project, defaults={"show_suggestions": True})
    retrain(project)
    Project.objects.filter(pk=project.pk).update(analysts_see_suggestions=False)
    analyst = member_factory(project, Role.ANALYST).user
    scientist = member_factory(project, Role.DATA_SCIENTIST).user

    # when
    nxt = api_client_for(analyst).get(f"/api/projects/{project.slug}/queue/next/").json()
    page = client_for(analyst).get(f"/projects/{project.slug}/label/")
    theirs = api_client_for(scientist).get(f"/api/projects/{project.slug}/queue/next/").json()

    # then the analyst sees none, and none is recorded as shown to her; a data scientist still gets one
    assert nxt["suggestion"] is None
    assert page.context["suggestion"] is None
    assert 'id="suggestion"' not in page.content.decode()
    assert "suggestion_shown" not in set(analyst.interactionevent_set.values_list("type", flat=True))
    assert theirs["suggestion"]["model"] == 1


def test_analysts_see_the_suggestion_by_default_on_the_labeling_page(
    corpus_project: Callable[..., Project], retrain: Any, member_factory: Callable[..., Membership],
    client_for: Any,
) -> None:  # fmt: skip
    # given a project with the default setting, whose active learning shows suggestions
    project = corpus_project(items=40, gold=20)
    LearnerSettings.objects.update_or_create(project=project, defaults={"show_suggestions": True})
    retrain(project)
    analyst = member_factory(project, Role.ANALYST).user

    # when
    page = client_for(analyst).get(f"/projects/{project.slug}/label/")

    # then
    assert Project.objects.get(pk=project.pk).analysts_see_suggestions is True
    assert page.context["suggestion"].model == 1
    assert 'id="suggestion"' in page.content.decode()


def test_a_span_projects_curve_reads_span_scores(
    span_project: Callable[..., Project], member_factory: Callable[..., Membership], api_client_for: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    # given a span project retrained through the API (12 train sentences, 4 held out)
    project = span_project(items=24, gold=16, test_every=4)
    client = api_client_for(member_factory(project, Role.OWNER).user)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(_api(project, "retrain/")).status_code == 202

    # when
    curve = client.get(_api(project, "curve/")).json()

    # then
    assert curve["metrics"] == ["span_f1", "span_precision", "span_recall"]
    (point,) = curve["points"]
    assert (point["n_labels"], point["n_heldout"], point["span_f1"], point["accuracy"]) == (12, 4, 1.0, None)
