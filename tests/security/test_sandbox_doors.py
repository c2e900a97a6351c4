"""Red team, through the doors a data scientist uses: the preview API, runs and the LF pages. A hostile or
forged answer fails its own LF with a clear reason while everything else goes on; where the OS sandbox is
missing, Python LFs are refused (never run unisolated) and declarative LFs keep working."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from projects.choices import Role
from projects.models import Membership, Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory
from tests.security.test_sandbox_escapes import ISSUE_ESCAPE, _forging, _leaks
from tests.weak_supervision.factories import keyword_lf
from weak_supervision.choices import RunStatus
from weak_supervision.isolation import isolation_reset
from weak_supervision.models import LabelingFunction, LabelModelRun
from weak_supervision.services.functions import labeling_function_create
from weak_supervision.services.runs import run_start

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def start_run(django_capture_on_commit_callbacks: Any) -> Callable[..., LabelModelRun]:
    def start(project: Project, **options: Any) -> LabelModelRun:
        with django_capture_on_commit_callbacks(execute=True):
            run = run_start(project=project, user=None, **options)
        run.refresh_from_db()
        return run

    return start


@pytest.fixture
def no_sandbox(settings: Any) -> Iterator[None]:
    """A server without bubblewrap."""
    settings.SANDBOX_BWRAP = "/nonexistent/bwrap"
    isolation_reset()
    yield
    isolation_reset()


def _project(items: int = 12) -> Project:
    project = ProjectFactory()
    for index in range(items):
        spam = index % 3 == 0
        item = ItemFactory(
            project=project, text=f"free prize {index}" if spam else f"see you at home {index}"
        )
        AnnotationFactory(item=item, labels=["spam" if spam else "ham"])
    keyword_lf(project, "prize", "spam", "prize")
    keyword_lf(project, "home", "ham", "home")
    return project


def _python_lf(project: Project, name: str, code: str) -> LabelingFunction:
    return labeling_function_create(
        project=project, user=None, name=name, kind="python", label="", spec={"code": code}
    )


def _preview(api: APIClient, project: Project, code: str) -> Any:
    body = {"kind": "python", "label": "", "spec": {"code": code}}
    return api.post(f"/api/projects/{project.slug}/labeling-functions/preview/", body, format="json")


def test_the_reported_escape_over_the_preview_api_answers_an_error_and_leaks_nothing(
    member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    # given a data scientist
    project = _project()
    api = api_client_for(member_factory(project, Role.DATA_SCIENTIST).user)

    # when
    response = _preview(api, project, ISSUE_ESCAPE)

    # then
    assert response.status_code == 200
    assert "_posixsubprocess" in response.json()["error"]
    assert _leaks(response.content.decode()) == []


def test_a_forged_out_of_range_vote_over_the_preview_api_is_an_error_not_a_500(
    member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    project = _project()
    api = api_client_for(member_factory(project, Role.DATA_SCIENTIST).user)

    response = _preview(api, project, _forging(json.dumps({"votes": [99] * 12})))

    assert response.status_code == 200
    assert "invalid answer" in response.json()["error"]


@pytest.mark.parametrize(
    "votes",
    [[1000], [1] * 13, [1], [99] * 12],
    ids=["one huge vote", "too many", "one vote for every item", "out of range"],
)
def test_a_run_with_a_forged_answer_finishes_with_that_lf_failed_and_none_of_its_votes(
    start_run: Callable[..., LabelModelRun], votes: list[int]
) -> None:
    # given the two rules and a Python LF that forges its answer
    project = _project()
    forger = _python_lf(project, "forger", _forging(json.dumps({"votes": votes})))

    # when
    run = start_run(project)

    # then the run is not stuck, the forger is reported and abstains everywhere, the rules voted
    assert run.status == RunStatus.SUCCEEDED, run.error
    error = run.metrics["lf_errors"][str(forger.pk)]
    assert "invalid answer" in error["error"]
    analysis = {row["name"]: row for row in run.lf_analysis}
    assert (analysis["forger"]["coverage"], analysis["forger"]["failed"]) == (0.0, True)
    assert analysis["prize"]["coverage"] > 0
    assert analysis["home"]["failed"] is False


def test_a_20_mb_exception_in_a_run_is_stored_once_and_small(start_run: Callable[..., LabelModelRun]) -> None:
    project = _project()
    _python_lf(project, "loud", "def label(item):\n    raise ValueError('x' * 20_000_000)\n")

    run = start_run(project)

    assert run.status == RunStatus.SUCCEEDED
    stored = LabelModelRun.objects.filter(pk=run.pk).values_list("metrics", "lf_analysis").get()
    assert len(json.dumps(stored)) < 20_000


def test_without_the_sandbox_python_lfs_are_refused_and_rules_keep_working(
    start_run: Callable[..., LabelModelRun],
    member_factory: Callable[..., Membership],
    api_client_for: Callable[..., APIClient],
    settings: Any,
) -> None:
    # given a Python LF saved while the sandbox was there, then a server without it
    project = _project()
    existing = _python_lf(project, "digits", "def label(item):\n    return None\n")
    settings.SANDBOX_BWRAP = "/nonexistent/bwrap"
    isolation_reset()
    try:
        api = api_client_for(member_factory(project, Role.DATA_SCIENTIST).user)

        # when
        created = api.post(
            f"/api/projects/{project.slug}/labeling-functions/",
            {
                "name": "new",
                "kind": "python",
                "label": "",
                "spec": {"code": "def label(item):\n    return None\n"},
            },
            format="json",
        )
        preview = _preview(api, project, "def label(item):\n    return None\n")
        run = start_run(project)
    finally:
        isolation_reset()

    # then: refused with the reason, never run; the rules ran
    assert created.status_code == 400
    assert "Python labeling functions are disabled on this server" in created.json()["detail"]
    assert "Python labeling functions are disabled" in preview.json()["error"]
    assert run.status == RunStatus.SUCCEEDED
    assert "disabled on this server" in run.metrics["lf_errors"][str(existing.pk)]["error"]
    assert {row["name"]: row["coverage"] > 0 for row in run.lf_analysis}["prize"] is True


def test_the_lf_pages_say_why_python_lfs_are_disabled(
    member_factory: Callable[..., Membership], no_sandbox: None
) -> None:
    project = _project()
    client = Client()
    client.force_login(member_factory(project, Role.DATA_SCIENTIST).user)

    listing = client.get(f"/projects/{project.slug}/labeling-functions/")
    editor = client.get(f"/projects/{project.slug}/labeling-functions/new/")

    for page in (listing, editor):
        assert page.status_code == 200
        assert "Python labeling functions are disabled on this server" in page.content.decode()


def test_lf_errors_are_shown_only_to_those_who_may_edit_lfs(
    start_run: Callable[..., LabelModelRun],
    member_factory: Callable[..., Membership],
    api_client_for: Callable[..., APIClient],
) -> None:
    # given a run in which a Python LF failed with a traceback
    project = _project()
    _python_lf(project, "broken", "def label(item):\n    return 1 / 0\n")
    run = start_run(project)
    reviewer = member_factory(project, Role.REVIEWER).user
    scientist = member_factory(project, Role.DATA_SCIENTIST).user

    def seen(user: Any) -> tuple[str, str]:
        client = Client()
        client.force_login(user)
        page = client.get(f"/projects/{project.slug}/runs/{run.number}/").content.decode()
        api = api_client_for(user).get(f"/api/projects/{project.slug}/runs/{run.number}/").content.decode()
        return page, api

    # when / then
    for text in seen(scientist):
        assert "ZeroDivisionError" in text
    for text in seen(reviewer):
        assert "ZeroDivisionError" not in text
    assert settings.SECRET_KEY not in "".join(seen(scientist))
