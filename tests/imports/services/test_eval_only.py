"""Evaluation-only labels at import, on SQLite (its writer); tests/integration runs them on PostgreSQL.

A label of an evaluation-only split only scores: it is stored as the item's EvaluationLabel, never as an
annotation, so it fills no queue slot and is nobody's answer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from imports.parsing.errors import ImportFileError
from imports.selectors import import_job_evaluation_labels
from imports.services.jobs import import_job_create, import_job_run, import_options_build, items_import
from imports.services.pipeline import (
    ERROR_EVAL_ONLY_FIELDS,
    ERROR_EVAL_ONLY_LONG_FORMAT,
    eval_only_splits_parse,
)
from labeling.models import Annotation, EvaluationLabel
from labeling.selectors.gold import gold_labels, truth_labels
from projects.choices import OnConflict, ProjectKind
from projects.models import Item, Project
from tests.projects.factories import ProjectFactory

pytestmark = pytest.mark.django_db

SPLIT_CSV = (
    "id,text,label,split\n"
    "t1,Win a free phone,spam,train\n"
    "v1,See you at lunch,ham,valid\n"
    "x1,Call now,spam,test\n"
    "x2,Lunch at noon,,test\n"
)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    def build(name: str, content: str) -> Path:
        path = tmp_path / name
        path.write_text(content)
        return path

    return build


def _split_options(**fields: Any) -> Any:
    return import_options_build(id_field="id", label_field="label", split_field="split", **fields)


def _evaluation_labels(project: Project) -> dict[str, list[str]]:
    return dict(EvaluationLabel.objects.filter(project=project).values_list("item__external_id", "labels"))


def _annotations(project: Project) -> dict[str, list[str]]:
    return dict(Annotation.objects.filter(project=project).values_list("item__external_id", "labels"))


def _remaining(project: Project) -> dict[str, int]:
    return dict(Item.objects.filter(project=project).values_list("external_id", "remaining"))


# --- reading the option --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, None),
        ("", None),
        (" , ", None),
        ("none", []),
        (" None ", []),
        ([], []),
        ("test", ["test"]),
        ("test,train", ["train", "test"]),
        (["Test", "dev", "test"], ["valid", "test"]),
        ("validation", ["valid"]),
    ],
)
def test_eval_only_splits_are_read_in_one_spelling(given: Any, expected: list[str] | None) -> None:
    assert eval_only_splits_parse(given) == expected


@pytest.mark.parametrize("given", ["holdout", "train,eval", ["test", "none"]])
def test_an_unknown_split_is_refused_by_name(given: Any) -> None:
    with pytest.raises(
        ValidationError, match="Unknown split '(holdout|eval|none)' in the evaluation-only splits"
    ):
        eval_only_splits_parse(given)


# --- WRENCH --------------------------------------------------------------------------------------------------
def test_a_wrench_folder_keeps_train_and_test_labels_for_scoring_and_valid_ones_as_gold(
    wrench_folder: Callable[..., Path],
) -> None:
    # given a tiny WRENCH folder (two records per split) and a project of its two classes
    project = ProjectFactory(labels=["ham", "spam"], overlap=1)

    # when it is imported with the format's defaults
    result = items_import(
        project=project, source=wrench_folder(), options=import_options_build(format="wrench")
    )

    # then train and test labels are evaluation-only, valid labels are imported annotations
    assert (result.items_created, result.annotations_imported, result.evaluation_labels) == (6, 2, 4)
    assert _evaluation_labels(project) == {
        "train-0": ["spam"], "train-1": ["ham"], "test-0": ["spam"], "test-1": ["ham"],
    }  # fmt: skip
    assert _annotations(project) == {"valid-0": ["spam"], "valid-1": ["ham"]}
    # an evaluation-only label is nobody's answer: the item still wants its annotation
    assert _remaining(project) == {
        "train-0": 1,
        "train-1": 1,
        "valid-0": 0,
        "valid-1": 0,
        "test-0": 1,
        "test-1": 1,
    }
    # it scores, and is no gold label
    ids = dict(Item.objects.filter(project=project).values_list("external_id", "pk"))
    assert set(gold_labels(project=project)) == {ids["valid-0"], ids["valid-1"]}
    assert truth_labels(project=project) == {
        ids["train-0"]: "spam", ids["train-1"]: "ham", ids["valid-0"]: "spam", ids["valid-1"]: "ham",
        ids["test-0"]: "spam", ids["test-1"]: "ham",
    }  # fmt: skip
    # the votes come in whatever the split
    assert result.votes_imported == 7


@pytest.mark.parametrize(
    ("splits", "evaluation", "annotated"),
    [
        ([], set(), {"train-0", "train-1", "valid-0", "valid-1", "test-0", "test-1"}),
        (["test"], {"test-0", "test-1"}, {"train-0", "train-1", "valid-0", "valid-1"}),
    ],
)
def test_a_wrench_import_may_name_its_own_evaluation_only_splits(
    wrench_folder: Callable[..., Path], splits: list[str], evaluation: set[str], annotated: set[str]
) -> None:
    # given
    project = ProjectFactory(labels=["ham", "spam"])

    # when
    items_import(
        project=project, source=wrench_folder(),
        options=import_options_build(format="wrench", eval_only_splits=splits),
    )  # fmt: skip

    # then
    assert set(_evaluation_labels(project)) == evaluation
    assert set(_annotations(project)) == annotated


def test_a_wrench_job_records_its_evaluation_only_splits_and_count(
    wrench_folder: Callable[..., Path],
) -> None:
    # given a job for a WRENCH folder that names no evaluation-only splits
    project = ProjectFactory(labels=["ham", "spam"])
    job = import_job_create(
        project=project, created_by=None, source_path=str(wrench_folder()), options=import_options_build(),
        enqueue=False,
    )  # fmt: skip

    # when it runs
    import_job_run(job=job)

    # then its options spell out the default it used, and it counts what it wrote
    job.refresh_from_db()
    assert job.options["eval_only_splits"] == ["train", "test"]
    assert (job.annotations_imported, import_job_evaluation_labels(job=job)) == (2, 4)


# --- other formats -------------------------------------------------------------------------------------------
def test_a_csv_marks_its_test_split_evaluation_only(write: Callable[[str, str], Path]) -> None:
    # given
    project = ProjectFactory(labels=["ham", "spam"], overlap=2)

    # when
    result = items_import(
        project=project, source=write("a.csv", SPLIT_CSV), options=_split_options(eval_only_splits=["test"])
    )

    # then the test row's label only scores; the unlabeled test row gets nothing
    assert (result.annotations_imported, result.evaluation_labels) == (2, 1)
    assert _evaluation_labels(project) == {"x1": ["spam"]}
    assert _annotations(project) == {"t1": ["spam"], "v1": ["ham"]}
    assert _remaining(project) == {"t1": 1, "v1": 1, "x1": 2, "x2": 2}


def test_other_formats_keep_every_label_as_an_annotation_by_default(
    write: Callable[[str, str], Path],
) -> None:
    # given
    project = ProjectFactory(labels=["ham", "spam"])

    # when
    result = items_import(project=project, source=write("a.csv", SPLIT_CSV), options=_split_options())

    # then
    assert (result.annotations_imported, result.evaluation_labels) == (3, 0)
    assert not EvaluationLabel.objects.exists()


def test_a_multi_label_evaluation_only_label_keeps_every_label(write: Callable[[str, str], Path]) -> None:
    # given
    project = ProjectFactory(labels=["bug", "ux", "perf"], kind=ProjectKind.MULTI, multi_label=True)
    source = write("m.jsonl", '{"text": "slow and ugly", "tags": ["perf", "ux"], "split": "test"}\n')

    # when
    items_import(
        project=project, source=source,
        options=import_options_build(label_field="tags", split_field="split", eval_only_splits=["test"]),
    )  # fmt: skip

    # then
    assert list(EvaluationLabel.objects.values_list("labels", flat=True)) == [["ux", "perf"]]
    assert not Annotation.objects.exists()


# --- updating and skipping -----------------------------------------------------------------------------------
def test_an_update_rewrites_an_evaluation_only_label_and_a_skip_leaves_it(
    write: Callable[[str, str], Path],
) -> None:
    # given a test row imported as evaluation-only
    project = ProjectFactory(labels=["ham", "spam"])
    items_import(
        project=project, source=write("a.csv", SPLIT_CSV), options=_split_options(eval_only_splits=["test"])
    )
    changed = write("b.csv", "id,text,label,split\nx1,Call now,ham,test\n")

    # when the file is imported again with another label, skipping, then updating
    skipped = items_import(project=project, source=changed, options=_split_options(eval_only_splits=["test"]))
    after_skip = _evaluation_labels(project)
    updated = items_import(
        project=project, source=changed,
        options=_split_options(eval_only_splits=["test"], on_conflict=OnConflict.UPDATE),
    )  # fmt: skip

    # then skipping changed nothing, updating replaced the label in place
    assert (skipped.items_skipped, skipped.evaluation_labels) == (1, 0)
    assert after_skip == {"x1": ["spam"]}
    assert (updated.items_updated, updated.evaluation_labels, updated.annotations_imported) == (1, 1, 0)
    assert _evaluation_labels(project) == {"x1": ["ham"]}
    assert EvaluationLabel.objects.filter(project=project).count() == 1
    assert _remaining(project)["x1"] == 1


def test_an_update_turns_imported_answers_of_an_evaluation_only_split_into_scores(
    write: Callable[[str, str], Path],
) -> None:
    # given a file imported before its test split was evaluation-only: every label an annotation
    project = ProjectFactory(labels=["ham", "spam"])
    source = write("a.csv", SPLIT_CSV)
    items_import(project=project, source=source, options=_split_options())

    # when it is imported again, updating, with the test split evaluation-only
    result = items_import(
        project=project, source=source,
        options=_split_options(eval_only_splits=["test"], on_conflict=OnConflict.UPDATE),
    )  # fmt: skip

    # then the test label left the annotations (its queue slot opens again) for an evaluation-only label
    assert result.evaluation_labels == 1
    assert _annotations(project) == {"t1": ["spam"], "v1": ["ham"]}
    assert _evaluation_labels(project) == {"x1": ["spam"]}
    assert _remaining(project) == {"t1": 0, "v1": 0, "x1": 1, "x2": 1}


def test_an_update_that_makes_a_split_answer_again_drops_its_evaluation_only_labels(
    write: Callable[[str, str], Path],
) -> None:
    # given a test split imported as evaluation-only
    project = ProjectFactory(labels=["ham", "spam"])
    source = write("a.csv", SPLIT_CSV)
    items_import(project=project, source=source, options=_split_options(eval_only_splits=["test"]))

    # when it is imported again, updating, with no evaluation-only split
    items_import(
        project=project,
        source=source,
        options=_split_options(eval_only_splits=[], on_conflict=OnConflict.UPDATE),
    )

    # then the label is an annotation, and only that
    assert _annotations(project) == {"t1": ["spam"], "v1": ["ham"], "x1": ["spam"]}
    assert not EvaluationLabel.objects.exists()
    assert _remaining(project)["x1"] == 0


# --- refusals ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "fields", "message"),
    [
        (SPLIT_CSV, {"eval_only_splits": ["holdout"]},
         "Unknown split 'holdout' in the evaluation-only splits; give train, valid, test, or none."),
        ("id,text,label,split,who\nx1,Call now,spam,test,ann\n", {"annotator_field": "who"},
         ERROR_EVAL_ONLY_LONG_FORMAT),
        (SPLIT_CSV, {"split_field": ""}, ERROR_EVAL_ONLY_FIELDS.format(missing="split")),
        (SPLIT_CSV, {"label_field": "", "split_field": ""},
         ERROR_EVAL_ONLY_FIELDS.format(missing="split and the label")),
    ],
)  # fmt: skip
def test_evaluation_only_splits_that_cannot_apply_are_refused_and_nothing_is_written(
    write: Callable[[str, str], Path], content: str, fields: dict[str, Any], message: str
) -> None:
    # given
    project = ProjectFactory(labels=["ham", "spam"])
    options = import_options_build(
        **{
            "id_field": "id",
            "label_field": "label",
            "split_field": "split",
            "eval_only_splits": ["test"],
            **fields,
        }
    )

    # when
    with pytest.raises(ImportFileError) as error:
        items_import(project=project, source=write("a.csv", content), options=options)

    # then
    assert error.value.message == message
    assert not Item.objects.exists()
    assert not EvaluationLabel.objects.exists()


def test_a_bad_row_after_evaluation_only_labels_were_written_leaves_nothing(
    write: Callable[[str, str], Path],
) -> None:
    # given a file whose last row has an unknown label, after evaluation-only rows in earlier batches
    project = ProjectFactory(labels=["ham", "spam"])
    source = write("a.csv", SPLIT_CSV + "x3,Last one,eggs,test\n")

    # when
    with pytest.raises(ImportFileError, match="Line 6: unknown label 'eggs'"):
        items_import(
            project=project, source=source, options=_split_options(eval_only_splits=["test"]), batch_size=1
        )

    # then
    assert not Item.objects.exists()
    assert not EvaluationLabel.objects.exists()
