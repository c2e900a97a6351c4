"""projects.commands.project_from_slug: the project a command's slug argument names, with one message if none."""

from __future__ import annotations

import pytest
from django.core.management import CommandError

from projects.commands import project_from_slug
from tests.projects.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def test_project_from_slug_returns_the_project_with_that_slug() -> None:
    # given two projects
    ProjectFactory(slug="ham")
    spam = ProjectFactory(slug="spam")

    # when one is looked up by its slug
    project = project_from_slug("spam")

    # then it is that project
    assert project.pk == spam.pk


def test_project_from_slug_raises_a_command_error_naming_the_missing_slug() -> None:
    # given a project, but none with the slug "nope"
    ProjectFactory(slug="ham")

    # when "nope" is looked up
    with pytest.raises(CommandError) as error:
        project_from_slug("nope")

    # then the command ends with the message every command uses
    assert str(error.value) == "No project with the slug 'nope'."
