"""Text search rows (projects.services.search) in the embedded default: SQLite searches by scanning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from imports.services.jobs import import_job_create, import_job_run, import_options_build
from projects.models import ItemSearchText
from projects.selectors import items_text_contain
from projects.services.search import item_search_refresh
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_on_sqlite_the_refresh_writes_nothing_and_the_search_scans_the_texts() -> None:
    # given
    project = ProjectFactory()
    wanted = ItemFactory(project=project, text="Where is my REFUND")
    ItemFactory(project=project, text="hello")

    # when
    written = item_search_refresh(project_id=project.pk)

    # then
    assert written == 0
    assert not ItemSearchText.objects.exists()
    found = project.items.filter(items_text_contain(project=project, text="refund"))
    assert list(found.values_list("pk", flat=True)) == [wanted.pk]


def test_a_finished_import_asks_for_its_items_search_rows(
    tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    # given an import job of two items
    project = ProjectFactory()
    path = tmp_path / "items.csv"
    path.write_text("id,text\na,one refund\nb,two\n")
    job = import_job_create(
        project=project, created_by=None, source_path=str(path), options=import_options_build(id_field="id"),
        enqueue=False,
    )  # fmt: skip

    # when it runs
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        import_job_run(job=job)

    # then the search refresh of its project is handed to the workers once it commits
    assert any("item_search_refresh_task" in repr(callback) for callback in callbacks)
