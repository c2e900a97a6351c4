from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from labeling.models import Flag, GoldLabel
from projects.models import Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory

pytestmark = pytest.mark.django_db


def test_review_queue_refresh_prints_the_counts_as_json(project: Project) -> None:
    # given
    disputed, flagged = ItemFactory.create_batch(2, project=project)
    AnnotationFactory(item=disputed, labels=["spam"])
    AnnotationFactory(item=disputed, labels=["ham"])
    Flag.objects.create(project=project, item=flagged)
    Project.objects.filter(pk=project.pk).update(review_audit_rate=0)
    out = io.StringIO()

    # when
    call_command("review_queue", project.slug, "--refresh", "--json", stdout=out)

    # then
    report = json.loads(out.getvalue().strip().splitlines()[-1])
    assert report["counts"]["open"] == 2
    assert (report["counts"]["disagreement"], report["counts"]["flag"]) == (1, 1)


def test_import_gold_stores_known_answers_from_a_csv_file(project: Project, tmp_path: Path) -> None:
    # given
    ItemFactory(project=project, external_id="m1")
    path = tmp_path / "gold.csv"
    path.write_text("external_id,label\nm1,spam\n", encoding="utf-8")
    out = io.StringIO()

    # when
    call_command("import_gold", project.slug, str(path), stdout=out)

    # then
    assert "Stored 1 known answer(s)" in out.getvalue()
    assert GoldLabel.objects.get().labels == ["spam"]


def test_import_gold_names_the_bad_line_and_stores_nothing(project: Project, tmp_path: Path) -> None:
    # given
    ItemFactory(project=project, external_id="m1")
    path = tmp_path / "gold.csv"
    path.write_text("external_id,label\nm1,spam\nm1,ham\n", encoding="utf-8")

    # when
    with pytest.raises(CommandError, match="Line 3: the external id 'm1' appears twice."):
        call_command("import_gold", project.slug, str(path))

    # then
    assert not GoldLabel.objects.exists()


def test_the_review_commands_refuse_an_unknown_project() -> None:
    with pytest.raises(CommandError, match="No project with the slug 'nope'."):
        call_command("review_queue", "nope")
