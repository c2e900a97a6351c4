from __future__ import annotations

import pytest

from features.selectors import project_has_text_fields
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_a_project_has_text_fields_when_its_items_carry_string_metadata() -> None:
    # given one project whose items carry numbers and lists only, and one where an item has a name
    bare = ProjectFactory()
    ItemFactory(project=bare, metadata={"n": 3, "span": [1, 2]})
    named = ProjectFactory()
    ItemFactory(project=named, metadata={})
    ItemFactory(project=named, metadata={"customer": "Ada"})

    # when / then
    assert project_has_text_fields(project=bare) is False
    assert project_has_text_fields(project=named) is True
    assert project_has_text_fields(project=ProjectFactory()) is False


def test_only_the_first_items_are_looked_at() -> None:
    # given a project whose first item has no fields and whose second has
    project = ProjectFactory()
    ItemFactory(project=project, metadata={})
    ItemFactory(project=project, metadata={"customer": "Ada"})

    # when / then
    assert project_has_text_fields(project=project, sample=1) is False
    assert project_has_text_fields(project=project, sample=2) is True
