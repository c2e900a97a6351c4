"""The CLI: export_events, as a user runs it."""

from __future__ import annotations

import csv
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from labeling.services.interactions import item_flag
from labeling.services.queue import queue_item_skip
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


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
