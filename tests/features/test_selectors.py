from __future__ import annotations

import pytest

from features.choices import HYBRID_CONTEXT, HYBRID_FIELDS, HYBRID_FIELDS_CONTEXT
from features.selectors import project_extra_feature_sets
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_the_fields_set_is_compared_where_the_items_carry_string_metadata() -> None:
    # given one project whose items carry numbers and lists only, and one where an item has a name
    bare = ProjectFactory()
    ItemFactory(project=bare, metadata={"n": 3, "span": [1, 2]})
    named = ProjectFactory()
    ItemFactory(project=named, metadata={})
    ItemFactory(project=named, metadata={"customer": "Ada"})

    # when / then
    assert project_extra_feature_sets(project=bare) == ()
    assert project_extra_feature_sets(project=named) == (HYBRID_FIELDS,)
    assert project_extra_feature_sets(project=ProjectFactory()) == ()


def test_the_context_sets_are_compared_where_the_metadata_marks_two_spans_of_the_text() -> None:
    # given relation items: two marked entities, with and without their names as metadata text
    text = "The burst has been caused by water hammer pressure ."
    marked = ProjectFactory()
    ItemFactory(project=marked, text=text, metadata={"span1": [4, 9], "span2": [29, 34]})
    named = ProjectFactory()
    ItemFactory(
        project=named, text=text,
        metadata={"entity1": "burst", "entity2": "water", "span1": [4, 9], "span2": [29, 34]},
    )  # fmt: skip

    # when / then
    assert project_extra_feature_sets(project=marked) == (HYBRID_CONTEXT,)
    assert project_extra_feature_sets(project=named) == (HYBRID_FIELDS, HYBRID_FIELDS_CONTEXT)


def test_spans_outside_the_text_mark_nothing() -> None:
    # given an item whose "spans" point past its text
    project = ProjectFactory()
    ItemFactory(project=project, text="short", metadata={"a": [0, 2], "b": [3, 90]})

    # when / then
    assert project_extra_feature_sets(project=project) == ()


def test_only_the_first_items_are_looked_at() -> None:
    # given a project whose first item has no fields and whose second has
    project = ProjectFactory()
    ItemFactory(project=project, metadata={})
    ItemFactory(project=project, metadata={"customer": "Ada"})

    # when / then
    assert project_extra_feature_sets(project=project, sample=1) == ()
    assert project_extra_feature_sets(project=project, sample=2) == (HYBRID_FIELDS,)
