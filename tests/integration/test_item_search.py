"""The item browser's text search on PostgreSQL: search rows under a trigram index, written after imports,
and a scan of any item newer than the rows (projects.services.search)."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oversight.filtersets import ItemFilterSet
from oversight.selectors.items import item_browser_list
from projects.access import ProjectAccess
from projects.choices import Role
from projects.models import Item, ItemSearchText, Project
from projects.services.search import item_search_behind, item_search_refresh
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TEXTS = ["Refund my order", "where is my REFUND?", "tracking number please", "refunded twice", "hello there"]


def _search(project: Project, q: str) -> set[int]:
    project.refresh_from_db()
    access = ProjectAccess(project=project, user=UserFactory(), role=Role.OWNER)
    filterset = ItemFilterSet({"q": q}, item_browser_list(project=project), access=access)
    assert filterset.is_valid(), filterset.errors
    return set(filterset.qs.values_list("pk", flat=True))


def _expected(project: Project, q: str) -> set[int]:
    return {item.pk for item in Item.objects.filter(project=project) if q.lower() in item.text.lower()}


def test_search_reads_the_index_for_written_items_and_scans_newer_ones() -> None:
    # given a project whose items have their search rows, and another project's item with the same word
    project = ProjectFactory()
    for text in TEXTS:
        ItemFactory(project=project, text=text)
    ItemFactory(project=ProjectFactory(), text="refund elsewhere")
    assert project.pk in item_search_behind()  # what the periodic sweep refreshes
    written = item_search_refresh(project_id=project.pk)
    project.refresh_from_db()
    assert written == len(TEXTS)
    assert project.search_indexed_through == Item.objects.filter(project=project).latest("pk").pk
    assert project.pk not in item_search_behind()

    # when an item is added after the refresh (an import whose refresh has not run yet) and one is deleted
    newer = ItemFactory(project=project, text="REFUNDS please")
    Item.objects.filter(project=project, text="refunded twice").delete()

    # then the search finds exactly the items whose text holds the words, whatever their case, the newer one
    # included, reading the search rows for the others
    with CaptureQueriesContext(connection) as queries:
        found = _search(project, "refund")
    assert found == _expected(project, "refund")
    assert newer.pk in found
    assert any("projects_itemsearchtext" in query["sql"] for query in queries.captured_queries)
    assert _search(project, "TRACKING") == _expected(project, "tracking")
    assert _search(project, "nothing like it") == set()

    # and the next refresh writes the newer item's row only and moves the mark past it
    assert item_search_refresh(project_id=project.pk) == 1
    project.refresh_from_db()
    assert project.search_indexed_through == newer.pk
    assert ItemSearchText.objects.filter(project=project).count() == len(TEXTS)
    assert _search(project, "refund") == _expected(project, "refund")


def test_the_refresh_leaves_the_mark_while_a_writer_holds_the_project() -> None:
    # given an import's transaction on another connection, holding the project's row as a writer of its items
    # does (FOR KEY SHARE)
    project = ProjectFactory()
    ItemFactory(project=project, text="refund")
    settings = connection.settings_dict
    other = psycopg.connect(
        host=settings["HOST"], port=settings["PORT"], user=settings["USER"], dbname=settings["NAME"],
        password=settings["PASSWORD"] or None,
    )  # fmt: skip
    try:
        other.execute("SELECT 1 FROM labeling_project WHERE id = %s FOR KEY SHARE", [project.pk])

        # when the refresh runs meanwhile
        result = item_search_refresh(project_id=project.pk)

        # then it writes nothing and leaves the mark (the import's own refresh follows its commit)
        assert result is None
        project.refresh_from_db()
        assert project.search_indexed_through == 0
    finally:
        other.rollback()
        other.close()

    # and once the writer is gone it writes the rows
    assert item_search_refresh(project_id=project.pk) == 1
    assert _search(project, "REFUND") == _expected(project, "refund")


def test_search_rows_go_with_their_items() -> None:
    # given a project with search rows
    project = ProjectFactory()
    ItemFactory(project=project, text="refund")
    item_search_refresh(project_id=project.pk)

    # when the project is deleted
    project.delete()

    # then its rows are gone
    assert not ItemSearchText.objects.exists()
