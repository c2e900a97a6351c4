from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from projects.choices import Role
from projects.models import Label, Membership, Project
from projects.services.projects import (
    ERROR_NO_LABELS,
    ERROR_OVERLAP,
    LabelSpec,
    label_specs_from_keys,
    project_create,
    project_update,
)
from tests.projects.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_project_create_builds_the_schema_and_makes_the_creator_owner() -> None:
    # given
    user = UserFactory()

    # when
    project = project_create(
        name="Spam or ham",
        labels=label_specs_from_keys(["Ham", "Spam", "Not sure"]),
        created_by=user,
        overlap=3,
    )

    # then
    assert (project.slug, project.overlap, project.multi_label) == ("spam-or-ham", 3, False)
    assert list(project.labels.values_list("key", "name", "hotkey", "order")) == [
        ("ham", "Ham", "1", 0),
        ("spam", "Spam", "2", 1),
        ("not_sure", "Not sure", "3", 2),
    ]
    assert Membership.objects.get(project=project).role == Role.OWNER


def test_explicit_label_hotkeys_and_colours_are_kept() -> None:
    project = project_create(
        name="p", created_by=None,
        labels=[LabelSpec(key="yes", hotkey="y", color="#000000"), LabelSpec(key="no", hotkey="n")],
    )  # fmt: skip
    assert list(project.labels.values_list("hotkey", "color")) == [("y", "#000000"), ("n", "#dc2626")]


@pytest.mark.parametrize(
    ("labels", "kwargs", "message"),
    [
        (["only"], {}, ERROR_NO_LABELS),
        (["a", "A"], {}, "Label 'a' is given twice."),
        (["a", "b"], {"overlap": 0}, ERROR_OVERLAP),
        (["!!", "b"], {}, "Label '!!' has no usable key."),
    ],
)
def test_project_create_refuses_bad_schemas(labels: list[str], kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValidationError) as error:
        project_create(name="p", labels=label_specs_from_keys(labels), created_by=None, **kwargs)
    assert error.value.messages == [message]
    assert Project.objects.count() == 0
    assert Label.objects.count() == 0


def test_a_taken_slug_is_refused() -> None:
    ProjectFactory(slug="taken")
    with pytest.raises(ValidationError, match="A project with the slug 'taken' already exists."):
        project_create(name="Taken", labels=label_specs_from_keys(["a", "b"]), created_by=None)


def test_multi_label_projects_may_have_one_label() -> None:
    project = project_create(
        name="tags", labels=label_specs_from_keys(["toxic"]), multi_label=True, created_by=None
    )
    assert project.labels.count() == 1


def test_project_update_changes_only_given_fields() -> None:
    project = ProjectFactory(name="Old", overlap=1)
    project_update(project=project, name="New", overlap=2)
    project.refresh_from_db()
    assert (project.name, project.overlap, project.instructions) == ("New", 2, "Label **spam** as spam.")


def test_analysts_see_suggestions_by_default_and_the_owner_may_keep_them_blind() -> None:
    # given
    project = ProjectFactory()
    default = project.analysts_see_suggestions

    # when
    project_update(project=project, analysts_see_suggestions=False)

    # then
    project.refresh_from_db()
    assert (default, project.analysts_see_suggestions) == (True, False)
