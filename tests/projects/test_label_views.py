"""The Settings page's labels region: an owner adds, edits, retires and merges labels with htmx."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from labeling.models import Annotation
from projects.choices import Role
from projects.models import Label, Membership
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_an_owner_manages_labels_on_the_settings_page(
    member_factory: Callable[..., Membership], client_for: Callable[..., Client]
) -> None:
    # given
    project = ProjectFactory(labels=["ham", "spam", "junk"])
    AnnotationFactory(item=ItemFactory(project=project), labels=["junk"])
    owner = client_for(member_factory(project, Role.OWNER, username="olga").user)
    base = f"/projects/{project.slug}/settings"

    # when
    page = owner.get(f"{base}/")
    added = owner.post(f"{base}/labels/", {"key": "Phish", "name": "Phishing", "hotkey": "p"}, **HTMX)
    taken = owner.post(f"{base}/labels/", {"key": "x", "hotkey": "p"}, **HTMX)
    edited = owner.post(
        f"{base}/labels/spam/", {"name": "Junk mail", "hotkey": "j", "color": "#112233"}, **HTMX
    )
    retired = owner.post(f"{base}/labels/phish/retire/", {"retired": "1"}, **HTMX)
    merged = owner.post(f"{base}/labels/junk/merge/", {"into": "spam"}, **HTMX)

    # then
    assert page.status_code == 200
    assert 'id="labels"' in page.content.decode()
    assert added.status_code == 200
    assert "Phishing" in added.content.decode()
    assert taken.status_code == 422
    assert "Hotkey &#x27;p&#x27; is already Phishing&#x27;s." in taken.content.decode()
    assert edited.status_code == 200
    assert Label.objects.get(project=project, key="spam").name == "Junk mail"
    assert "retired" in retired.content.decode()
    assert merged.status_code == 200
    assert "Merged <code>junk</code> into <code>spam</code>: 1 annotations." in merged.content.decode()
    assert Annotation.objects.get().labels == ["spam"]
    assert "History" in merged.content.decode()


def test_an_analyst_cannot_change_labels(
    member_factory: Callable[..., Membership], client_for: Callable[..., Client]
) -> None:
    project = ProjectFactory()
    analyst = client_for(member_factory(project, Role.ANALYST).user)
    response = analyst.post(
        f"/projects/{project.slug}/settings/labels/spam/", {"name": "x", "color": "#000000"}
    )
    assert response.status_code == 403
    assert Label.objects.get(project=project, key="spam").name == "Spam"
