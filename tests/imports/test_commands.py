"""The CLI: import_items, as a user runs it."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from labeling.models import Annotation
from projects.models import Item, Project

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


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
    with pytest.raises(CommandError) as error:
        _run("import_items", "nope", str(tmp_path))
    assert str(error.value) == "No project with the slug 'nope'."
