"""The CLI: create_project, import_items, seed_demo and export_events, as a user runs them."""

from __future__ import annotations

import csv
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from demo.services.seed import DEMO_GOLD_CHECKS, DEMO_LABELED_ITEMS, DEMO_SLUG
from labeling.models import Annotation, GoldLabel
from labeling.services.interactions import item_flag
from labeling.services.queue import queue_item_skip
from projects.models import Item, Project
from tests.labeling.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_create_project_prints_a_json_summary_last() -> None:
    output = _run("create_project", "spam", "--labels", "ham,spam", "--overlap", "2", "--json")
    summary = json.loads(output.strip().splitlines()[-1])
    project = Project.objects.get(slug="spam")
    assert summary == {
        "project_id": project.pk,
        "slug": "spam",
        "labels": ["ham", "spam"],
        "multi_label": False,
        "overlap": 2,
    }


def test_create_project_reports_bad_input() -> None:
    with pytest.raises(CommandError, match="A project needs at least two labels"):
        _run("create_project", "spam", "--labels", "ham")


def test_import_items_imports_the_sms_collection(shared_data: Path) -> None:
    # given
    _run("create_project", "sms", "--labels", "ham,spam")

    # when
    output = _run(
        "import_items", "sms", str(shared_data / "sms_spam_uci" / "SMSSpamCollection"), "--format", "csv",
        "--delimiter", "tab", "--no-header", "--columns", "label,text", "--label-field", "label", "--json",
    )  # fmt: skip

    # then
    summary = json.loads(output.strip().splitlines()[-1])
    project = Project.objects.get(slug="sms")
    assert summary["project_id"] == project.pk
    assert summary["slug"] == "sms"
    assert (summary["rows"], summary["items_created"], summary["annotations_imported"]) == (5574, 5574, 5574)
    assert Annotation.objects.filter(project=project, labels=["spam"]).count() == 747


def test_import_items_refuses_a_bad_file_with_its_line(tmp_path: Path) -> None:
    _run("create_project", "p", "--labels", "ham,spam")
    path = tmp_path / "bad.csv"
    path.write_text("id,text,label\n1,ok,ham\n2,no,maybe\n")
    with pytest.raises(CommandError) as error:
        _run("import_items", "p", str(path), "--id-field", "id", "--label-field", "label")
    assert str(error.value) == (
        "bad.csv: Line 3: unknown label 'maybe'; the project's labels are: ham, spam. Nothing was imported."
    )
    assert Item.objects.count() == 0


def test_import_items_needs_an_existing_project(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="There is no project 'nope'."):
        _run("import_items", "nope", str(tmp_path))


def test_seed_demo_is_idempotent() -> None:
    first = _run("seed_demo", "--items", "200")
    second = _run("seed_demo", "--items", "200")
    project = Project.objects.get(slug=DEMO_SLUG)
    assert project.items.count() == 200
    assert project.labels.count() == 5
    assert "password: oversight-demo" in first
    assert "already exists" in second
    # the team's history is seeded once: two analysts per labeled item, every analyst on every gold check
    labeled = min(DEMO_LABELED_ITEMS, 200 - DEMO_GOLD_CHECKS)
    assert Annotation.objects.filter(project=project).count() == 2 * labeled + 3 * DEMO_GOLD_CHECKS
    assert GoldLabel.objects.filter(project=project, is_check=True).count() == DEMO_GOLD_CHECKS
    assert set(project.memberships.values_list("user__username", flat=True)) >= {"ana", "ben", "cleo", "rita"}


def test_export_events_writes_jsonl_and_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given a skip and a flag
    project = ProjectFactory()
    item = ItemFactory(project=project)
    user = UserFactory(username="ana")
    queue_item_skip(project=project, user=user, item_id=item.pk, input_method="hotkey")
    item_flag(project=project, user=user, item_id=item.pk, comment="odd")

    # when
    call_command("export_events", project.slug, "--format", "jsonl")
    jsonl = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    target = tmp_path / "events.csv"
    call_command("export_events", project.slug, "--format", "csv", "--output", str(target), "--type", "flag")

    # then
    assert [(row["type"], row["username"]) for row in jsonl] == [("skip", "ana"), ("flag", "ana")]
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [(row["type"], json.loads(row["payload"])["comment"]) for row in rows] == [("flag", "odd")]
    assert not (tmp_path / "events.csv.partial").exists()


def test_export_events_for_an_unknown_project_fails_clearly() -> None:
    with pytest.raises(CommandError, match="No project with the slug 'nope'."):
        call_command("export_events", "nope")
