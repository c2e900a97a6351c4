"""The page and the API are two doors onto the same services and the same Action table: what one refuses,
the other refuses, and a write through either lands the same way."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from rest_framework.test import APIClient

from active_learning.models import LearnerSettings
from labeling.models import GoldLabel
from projects.choices import Role
from projects.models import Membership, Project
from tests.projects.factories import ItemFactory

pytestmark = pytest.mark.django_db
ANSWERS = {"answers": "external_id,label\nm1,spam\n", "is_check": "on"}


@pytest.mark.parametrize(("role", "allowed"), [(Role.OWNER, True), (Role.REVIEWER, False)])
def test_known_answers_need_edit_project_on_the_page_as_on_the_api(
    project: Project,
    member_factory: Callable[..., Membership],
    client_for: Callable[..., Client],
    api_client_for: Callable[..., APIClient],
    role: str,
    allowed: bool,
) -> None:
    # given a reviewer (who may review, not edit the project) or an owner
    ItemFactory(project=project, external_id="m1")
    user = member_factory(project, role).user

    # when known answers are posted through the page, then through the API
    page = client_for(user).post(f"/projects/{project.slug}/gold/", ANSWERS)
    api = api_client_for(user).post(
        f"/api/projects/{project.slug}/gold/",
        {"answers": [{"external_id": "m1", "labels": ["spam"]}]},
        format="json",
    )

    # then both doors answer alike: stored for the owner, 403 for the reviewer with nothing stored
    if allowed:
        assert (page.status_code, api.status_code) == (302, 201)
        assert GoldLabel.objects.filter(project=project, is_check=True).count() == 1
    else:
        assert (page.status_code, api.status_code) == (403, 403)
        assert not GoldLabel.objects.filter(project=project).exists()


def test_the_settings_page_writes_through_the_service_the_api_calls(
    project: Project,
    member_factory: Callable[..., Membership],
    client_for: Callable[..., Client],
    api_client_for: Callable[..., APIClient],
) -> None:
    # given a data scientist
    user = member_factory(project, Role.DATA_SCIENTIST).user
    form = {"enabled": "on", "strategy": "entropy", "features": "hashed_tfidf", "retrain_every": "25",
            "batch_size": "20", "weak_min_confidence": "0.9", "show_suggestions": "on"}  # fmt: skip

    # when the page saves settings, and the API reads them back
    saved = client_for(user).post(f"/projects/{project.slug}/active-learning/settings/", form)
    read = api_client_for(user).get(f"/api/projects/{project.slug}/active-learning/settings/")

    # then the row holds what the page sent, as the API sees it
    assert saved.status_code == 302
    settings = LearnerSettings.objects.get(project=project)
    assert (settings.strategy, settings.retrain_every, settings.batch_size) == ("entropy", 25, 20)
    assert (read.json()["strategy"], read.json()["retrain_every"]) == ("entropy", 25)
