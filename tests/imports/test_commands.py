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


DUPLICATES_CSV = "id,text\na,first\nb,second\na,again\nc,third\nb,and again\n"


def test_import_items_refuses_a_repeated_id_by_default_with_its_line(tmp_path: Path) -> None:
    # given
    _run("create_project", "p", "--labels", "ham,spam")
    path = tmp_path / "dups.csv"
    path.write_text(DUPLICATES_CSV)

    # when
    with pytest.raises(CommandError) as error:
        _run("import_items", "p", str(path), "--id-field", "id")

    # then
    assert (
        str(error.value) == "dups.csv: Line 4: duplicate id 'a' (first seen at line 2). Nothing was imported."
    )
    assert Item.objects.count() == 0


def test_import_items_skips_repeated_ids_when_asked_and_reports_their_lines(tmp_path: Path) -> None:
    # given
    _run("create_project", "p", "--labels", "ham,spam")
    path = tmp_path / "dups.csv"
    path.write_text(DUPLICATES_CSV)

    # when
    output = _run("import_items", "p", str(path), "--id-field", "id", "--on-duplicate", "skip", "--json")

    # then the first row of each id is kept
    summary = json.loads(output.strip().splitlines()[-1])
    assert (summary["rows"], summary["items_created"]) == (3, 3)
    assert (summary["duplicates_skipped"], summary["duplicate_lines"]) == (2, [4, 6])
    assert dict(Item.objects.values_list("external_id", "text")) == {
        "a": "first",
        "b": "second",
        "c": "third",
    }
    job = ImportJob.objects.get()
    assert job.options["on_duplicate"] == "skip"
    assert job.options["result"]["duplicates_skipped"] == 2


def test_import_items_says_how_many_rows_it_skipped_without_json(tmp_path: Path) -> None:
    _run("create_project", "p", "--labels", "ham,spam")
    path = tmp_path / "dups.csv"
    path.write_text(DUPLICATES_CSV)
    output = _run("import_items", "p", str(path), "--id-field", "id", "--on-duplicate", "skip")
    assert "2 rows with a repeated id skipped (lines 4, 6)" in output


def test_import_items_json_reports_the_imports_own_time_and_rate(tmp_path: Path) -> None:
    # given
    _run("create_project", "p", "--labels", "ham,spam")
    path = tmp_path / "items.csv"
    path.write_text("text\n" + "".join(f"item {index}\n" for index in range(50)))

    # when
    summary = json.loads(_run("import_items", "p", str(path), "--json").strip().splitlines()[-1])

    # then
    assert summary["rows"] == 50
    assert 0 < summary["seconds"] < 60
    assert summary["items_per_second"] == pytest.approx(50 / summary["seconds"], rel=0.01)
    assert summary["duplicates_skipped"] == 0


@pytest.mark.parametrize(
    ("delimiter", "separator"),
    [
        ("tab", "\t"),
        ("TAB", "\t"),
        ("\\t", "\t"),
        ("semicolon", ";"),
        ("pipe", "|"),
        ("comma", ","),
        (";", ";"),
    ],
)
def test_import_items_reads_delimiters_by_name(tmp_path: Path, delimiter: str, separator: str) -> None:
    # given
    _run("create_project", "p", "--labels", "ham,spam")
    path = tmp_path / "items.txt"
    path.write_text(f"id{separator}text\n1{separator}hello\n2{separator}world\n")

    # when
    _run("import_items", "p", str(path), "--format", "csv", "--id-field", "id", "--delimiter", delimiter)

    # then
    assert dict(Item.objects.values_list("external_id", "text")) == {"1": "hello", "2": "world"}


def test_import_items_refuses_an_unknown_delimiter_name(tmp_path: Path) -> None:
    _run("create_project", "p", "--labels", "ham,spam")
    path = tmp_path / "items.csv"
    path.write_text("text\nhello\n")
    with pytest.raises(CommandError) as error:
        _run("import_items", "p", str(path), "--delimiter", "colon")
    assert str(error.value) == (
        "--delimiter: A delimiter is one character, or one of: tab, comma, semicolon, pipe, space (got 'colon')."
    )
