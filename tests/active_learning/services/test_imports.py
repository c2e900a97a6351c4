"""Re-importing items with a changed text drops the cached features that describe the old text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage

from features.choices import FeatureKind
from features.models import FeatureBlock
from features.services.cache import block_load, feature_block_build, features_plan, features_refresh
from features.vectors import term_counts
from imports.services.jobs import import_options_build, items_import
from projects.choices import OnConflict
from projects.models import Item, Project

pytestmark = pytest.mark.django_db
KIND = FeatureKind.HASHED_TFIDF
FIRST = "id,text\na1,win a prize\na2,lunch at noon\na3,free cash now\na4,see you at dinner\n"


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    def build(name: str, content: str) -> Path:
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        return path

    return build


def _imported_with_blocks_of_two(project: Project, write: Callable[[str, str], Path]) -> dict[str, int]:
    items_import(
        project=project, source=write("first.csv", FIRST), options=import_options_build(id_field="id")
    )
    for plan in features_plan(project=project, kind=KIND, block_size=2):
        feature_block_build(project=project, kind=KIND, first_id=plan.first_id, last_id=plan.last_id)
    return dict(Item.objects.filter(project=project).values_list("external_id", "pk"))


def _block_starts(project: Project) -> list[int]:
    return list(
        FeatureBlock.objects.filter(project=project).order_by("first_id").values_list("first_id", flat=True)
    )


def test_an_update_import_with_a_changed_text_drops_its_block(
    project: Project, write: Callable[[str, str], Path], django_capture_on_commit_callbacks: Any
) -> None:
    # given blocks of a1-a2 and a3-a4
    ids = _imported_with_blocks_of_two(project, write)
    old = FeatureBlock.objects.get(project=project, first_id=ids["a3"])

    # when a3's text changes
    with django_capture_on_commit_callbacks(execute=True):
        result = items_import(
            project=project, source=write("second.csv", "id,text\na3,free cash tomorrow\n"),
            options=import_options_build(id_field="id", on_conflict=OnConflict.UPDATE),
        )  # fmt: skip

    # then its block and the block's file are gone; the next refresh reads the new text
    assert result.items_updated == 1
    assert _block_starts(project) == [ids["a1"]]
    assert not default_storage.exists(old.path)
    assert features_refresh(project=project, kind=KIND) == 1
    block_ids, counts, _ = block_load(FeatureBlock.objects.get(project=project, first_id=ids["a3"]))
    assert block_ids.tolist() == [ids["a3"], ids["a4"]]
    assert (counts[0] != term_counts(["free cash tomorrow"])).nnz == 0


def test_a_skip_import_of_known_ids_keeps_every_block(
    project: Project, write: Callable[[str, str], Path]
) -> None:
    # given
    ids = _imported_with_blocks_of_two(project, write)

    # when
    result = items_import(
        project=project, source=write("second.csv", "id,text\na3,free cash tomorrow\n"),
        options=import_options_build(id_field="id"),
    )  # fmt: skip

    # then
    assert result.items_skipped == 1
    assert _block_starts(project) == [ids["a1"], ids["a3"]]
    assert Item.objects.get(pk=ids["a3"]).text == "free cash now"


def test_new_items_of_an_update_import_keep_the_old_blocks(
    project: Project, write: Callable[[str, str], Path]
) -> None:
    # given
    ids = _imported_with_blocks_of_two(project, write)

    # when only new ids arrive
    items_import(
        project=project, source=write("second.csv", "id,text\nb1,a new text\n"),
        options=import_options_build(id_field="id", on_conflict=OnConflict.UPDATE),
    )  # fmt: skip

    # then
    assert _block_starts(project) == [ids["a1"], ids["a3"]]
    assert [plan.rows for plan in features_plan(project=project, kind=KIND)] == [1]
