"""models_from_sql builds what raw() builds, without raw()'s per-call mapping."""

from __future__ import annotations

import pytest

from core.queries import models_from_sql
from projects.models import Item, Project
from tests.projects.factories import ItemFactory

pytestmark = pytest.mark.django_db


def test_rows_are_the_instances_raw_builds_with_the_other_columns_as_attributes() -> None:
    # given items with JSON metadata, token offsets and a timestamp
    first = ItemFactory(metadata={"author": "ada", "n": 2}, token_offsets=[[0, 3]], priority=0.5)
    ItemFactory(project=first.project, metadata={})
    sql = (
        f"SELECT i.*, i.id * 2 AS doubled FROM {Item._meta.db_table} i WHERE i.project_id = %s ORDER BY i.id"
    )

    # when
    built = models_from_sql(Item, sql, [first.project_id])
    again = models_from_sql(Item, sql, [first.project_id])  # the mapping, now from the process's plan
    expected = list(Item.objects.raw(sql, [first.project_id]))

    # then every field and the extra column match, converted (JSON decoded, aware datetimes)
    assert len(built) == len(again) == 2
    for mine, theirs in zip(built, expected, strict=True):
        for field in Item._meta.concrete_fields:
            assert getattr(mine, field.attname) == getattr(theirs, field.attname)
        assert mine.doubled == theirs.doubled == theirs.pk * 2  # type: ignore[attr-defined]
    assert built[0].metadata == {"author": "ada", "n": 2}
    assert built[0].created_at.tzinfo is not None
    assert built[0]._state.adding is False


def test_a_subset_of_columns_defers_the_others_and_the_primary_key_is_required() -> None:
    # given an item
    item = ItemFactory(text="hello")

    # when only some columns are selected
    built = models_from_sql(Item, f"SELECT id, text FROM {Item._meta.db_table} WHERE id = %s", [item.pk])

    # then the others are deferred (read on access), and a statement without the key is refused
    assert built[0].text == "hello"
    assert "metadata" in built[0].get_deferred_fields()
    with pytest.raises(ValueError, match="primary key"):
        models_from_sql(Item, f"SELECT text FROM {Item._meta.db_table}", [])


def test_related_columns_build_the_joined_model_or_none_where_the_join_found_nothing() -> None:
    # given one item whose project exists and a LEFT JOIN that finds no project for another
    item = ItemFactory(text="hello")
    items, projects = Item._meta.db_table, Project._meta.db_table
    sql = (
        f"SELECT i.id, i.text, p.id AS joined__id, p.slug AS joined__slug, p.created_at AS joined__created_at"
        f" FROM {items} i LEFT JOIN {projects} p ON p.id = i.project_id AND p.slug = %s WHERE i.id = %s"
    )

    # when
    (found,) = models_from_sql(Item, sql, [item.project.slug, item.pk], related={"joined": Project})
    (missing,) = models_from_sql(Item, sql, ["no-such-slug", item.pk], related={"joined": Project})

    # then the joined project is built and converted, not left as columns; absent, it is None
    joined = found.joined  # type: ignore[attr-defined]
    assert isinstance(joined, Project)
    assert (joined.pk, joined.slug) == (item.project_id, item.project.slug)
    assert joined.created_at == item.project.created_at
    assert not hasattr(found, "joined__slug")
    assert missing.joined is None  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="joined's primary key"):
        models_from_sql(
            Item, f"SELECT i.id, 'x' AS joined__slug FROM {items} i", [], related={"joined": Project}
        )
