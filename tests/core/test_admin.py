"""/admin/ has every model of the project's apps, and each of their lists opens."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from tests.labeling.factories import AnnotationFactory, GoldLabelFactory
from tests.projects.factories import UserFactory

OUR_APPS = [
    "accounts", "projects", "labeling", "features", "weak_supervision", "active_learning", "oversight",
    "imports", "datasets", "demo",
]  # fmt: skip


def test_every_model_of_the_projects_apps_is_in_the_admin() -> None:
    # given every model of our apps
    models = [model for label in OUR_APPS for model in apps.get_app_config(label).get_models()]

    # when / then each one is registered
    missing = [model._meta.label for model in models if not admin.site.is_registered(model)]
    assert models
    assert missing == []


@pytest.mark.django_db
def test_every_admin_list_of_our_models_opens_for_a_superuser(client: Client) -> None:
    # given a superuser and some rows
    AnnotationFactory()
    GoldLabelFactory()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    # when each changelist is opened
    failures = []
    for label in OUR_APPS:
        for model in apps.get_app_config(label).get_models():
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            status = client.get(url).status_code
            if status != 200:
                failures.append((model._meta.label, status))

    # then none fails
    assert failures == []
