"""/admin/ never changes a stored label's key: answers, gold labels, LFs, weak labels and snapshots store it."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client) -> Client:
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_a_stored_labels_key_is_read_only_on_its_admin_page(admin_client: Client) -> None:
    # given a label with an answer that stores its key
    project = ProjectFactory()
    spam = project.labels.get(key="spam")
    AnnotationFactory(item__project=project, labels=["spam"])
    url = f"/admin/projects/label/{spam.pk}/change/"

    # when its key and name are posted changed
    page = admin_client.get(url).content.decode()
    response = admin_client.post(
        url, {"key": "junk", "name": "Junk mail", "hotkey": "2", "color": "#ff0000", "order": 1}
    )

    # then the name changed and the key did not
    assert 'name="key"' not in page
    assert response.status_code == 302
    spam.refresh_from_db()
    assert (spam.key, spam.name, spam.color) == ("spam", "Junk mail", "#ff0000")


def test_a_projects_inline_labels_keep_their_keys_and_new_labels_are_added_with_one(
    admin_client: Client,
) -> None:
    # given a stored project with two labels
    project = ProjectFactory(slug="sms", name="SMS")
    page = admin_client.get(f"/admin/projects/project/{project.pk}/change/").content.decode()

    # when a label is added from the label admin, key included
    response = admin_client.post(
        "/admin/projects/label/add/",
        {
            "project": project.pk,
            "key": "promo",
            "name": "Promotion",
            "hotkey": "3",
            "color": "#00aa00",
            "order": 2,
        },
    )

    # then the inline shows stored keys as text and offers no keyless form; the new label has its key
    assert 'name="labels-0-key"' not in page
    assert 'name="labels-__prefix__-key"' not in page
    assert response.status_code == 302
    assert list(project.labels.order_by("order").values_list("key", flat=True)) == ["ham", "spam", "promo"]


def test_a_new_project_gets_its_labels_with_keys_inline(admin_client: Client) -> None:
    # when the add page is opened
    page = admin_client.get("/admin/projects/project/add/").content.decode()

    # then its label forms ask for a key
    assert 'name="labels-__prefix__-key"' in page
