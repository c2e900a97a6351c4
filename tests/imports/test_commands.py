"""The CLI: import_items, as a user runs it."""

from __future__ import annotations

import json
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from imports.management.commands.import_items import ERROR_EVAL_ONLY_BLANK
from labeling.models import Annotation, EvaluationLabel, GoldLabel
from projects.models import ImportJob, Item, Project
from tests.projects.factories import ItemFactory

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


def test_import_items_marks_the_splits_it_is_given_evaluation_only(tmp_path: Path) -> None:
    # given
    _run("create_project", "p", "--labels", "ham,spam")
    path = tmp_path / "items.csv"
    path.write_text("id,text,label,split\n1,hi,ham,train\n2,win,spam,test\n3,yo,ham,valid\n")

    # when
    output = _run(
        "import_items", "p", str(path), "--id-field", "id", "--label-field", "label", "--split-field", "split",
        "--eval-only-splits", "test,valid", "--json",
    )  # fmt: skip

    # then
    summary = json.loads(output.strip().splitlines()[-1])
    assert (summary["annotations_imported"], summary["evaluation_labels_imported"]) == (1, 2)
    assert summary["eval_only_splits"] == ["valid", "test"]
    assert sorted(EvaluationLabel.objects.values_list("item__external_id", flat=True)) == ["2", "3"]


def test_import_items_takes_none_to_keep_every_wrench_label_as_an_annotation(
    wrench_folder: Callable[..., Path],
) -> None:
    # given
    _run("create_project", "p", "--labels", "ham,spam")

    # when
    output = _run("import_items", "p", str(wrench_folder()), "--eval-only-splits", "none", "--json")

    # then
    summary = json.loads(output.strip().splitlines()[-1])
    assert (summary["annotations_imported"], summary["evaluation_labels_imported"]) == (6, 0)
    assert summary["eval_only_splits"] == []
    assert not EvaluationLabel.objects.exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("holdout", "--eval-only-splits: Unknown split 'holdout' in the evaluation-only splits; give train, valid, "
                    "test, or none."),
        (" ", ERROR_EVAL_ONLY_BLANK),
    ],
)  # fmt: skip
def test_import_items_refuses_bad_evaluation_only_splits(
    wrench_folder: Callable[..., Path], value: str, message: str
) -> None:
    # given
    _run("create_project", "p", "--labels", "ham,spam")

    # when
    with pytest.raises(CommandError) as error:
        _run("import_items", "p", str(wrench_folder()), "--eval-only-splits", value)

    # then
    assert str(error.value) == message
    assert not Item.objects.exists()
    assert not ImportJob.objects.exists()


def test_import_gold_reads_label_keys_in_any_case(tmp_path: Path) -> None:
    # given
    _run("create_project", "p", "--labels", "ham,spam")
    project = Project.objects.get(slug="p")
    ItemFactory(project=project, external_id="m1")
    ItemFactory(project=project, external_id="m2")
    path = tmp_path / "gold.csv"
    path.write_text("external_id,label\nm1,SPAM\nm2,Ham\n", encoding="utf-8")

    # when
    _run("import_gold", "p", str(path))

    # then
    assert sorted(GoldLabel.objects.values_list("item__external_id", "labels")) == [
        ("m1", ["spam"]),
        ("m2", ["ham"]),
    ]


def test_import_gold_refuses_an_unknown_label_listing_the_labels(tmp_path: Path) -> None:
    # given
    _run("create_project", "p", "--labels", "ham,spam")
    ItemFactory(project=Project.objects.get(slug="p"), external_id="m1")
    path = tmp_path / "gold.csv"
    path.write_text("external_id,label\nm1,eggs\n", encoding="utf-8")

    # when
    with pytest.raises(CommandError) as error:
        _run("import_gold", "p", str(path))

    # then
    assert str(error.value) == f"{path}: Line 2: Unknown label(s): eggs. The project's labels are: ham, spam."
    assert not GoldLabel.objects.exists()
