"""The import service on SQLite (the ORM writer). tests/integration runs the same cases on PostgreSQL."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from labeling.choices import AnnotationSource, ImportStatus, OnConflict
from labeling.importers.errors import ImportFileError
from labeling.models import Annotation, ImportJob, Item, Project, ReviewRequest
from labeling.services.imports import import_job_create, import_job_run, import_options_build, items_import
from tests.labeling.factories import ProjectFactory
from weak_supervision.models import ExternalVote, LabelingFunction

pytestmark = pytest.mark.django_db


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    def build(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    return build


CSV = "id,text,label,lang\na1,Win a free phone,spam,en\na2,See you at lunch,ham,en\na3,Call now,,fr\n"


def test_csv_import_creates_items_and_imported_annotations(
    project: Project, write: Callable[..., Path]
) -> None:
    # given
    options = import_options_build(id_field="id", label_field="label")

    # when
    result = items_import(project=project, source=write("a.csv", CSV), options=options, batch_size=2)

    # then
    assert (result.rows, result.items_created, result.items_skipped, result.annotations_imported) == (
        3,
        3,
        0,
        2,
    )
    items = {item.external_id: item for item in Item.objects.filter(project=project)}
    assert sorted(items) == ["a1", "a2", "a3"]
    assert items["a1"].text == "Win a free phone"
    assert items["a1"].metadata == {"lang": "en"}
    labels = dict(Annotation.objects.filter(project=project).values_list("item__external_id", "labels"))
    assert labels == {"a1": ["spam"], "a2": ["ham"]}
    assert set(Annotation.objects.values_list("source", flat=True)) == {AnnotationSource.IMPORT}


def test_reimport_skips_known_ids_and_changes_nothing(project: Project, write: Callable[..., Path]) -> None:
    # given
    path = write("a.csv", CSV)
    options = import_options_build(id_field="id", label_field="label")
    items_import(project=project, source=path, options=options)

    # when
    result = items_import(project=project, source=path, options=options)

    # then
    assert (result.items_created, result.items_skipped, result.annotations_imported) == (0, 3, 0)
    assert Item.objects.filter(project=project).count() == 3
    assert Annotation.objects.filter(project=project).count() == 2


def test_reimport_with_update_rewrites_items_and_labels(project: Project, write: Callable[..., Path]) -> None:
    # given
    items_import(
        project=project,
        source=write("a.csv", CSV),
        options=import_options_build(id_field="id", label_field="label"),
    )
    changed = "id,text,label\na1,Win a free phone today,ham\na3,Call now,spam\na4,New one,spam\n"

    # when
    result = items_import(
        project=project,
        source=write("b.csv", changed),
        options=import_options_build(id_field="id", label_field="label", on_conflict=OnConflict.UPDATE),
    )

    # then
    assert (result.items_created, result.items_updated, result.annotations_imported) == (1, 2, 3)
    assert Item.objects.get(project=project, external_id="a1").text == "Win a free phone today"
    assert Annotation.objects.get(item__external_id="a1").labels == ["ham"]
    assert Annotation.objects.filter(project=project).count() == 4
    # imported labels fill queue slots: a3's new label too, a1's changed one not twice
    remaining = dict(Item.objects.filter(project=project).values_list("external_id", "remaining"))
    assert remaining == {"a1": 0, "a2": 0, "a3": 0, "a4": 0}


def test_a_bad_row_late_in_the_file_leaves_nothing_behind(
    project: Project, write: Callable[..., Path]
) -> None:
    # given a file whose last line has an unknown label, after several batches were written
    lines = [f"{i},text {i},ham" for i in range(1, 8)] + ["8,text 8,eggs"]
    path = write("bad.csv", "id,text,label\n" + "\n".join(lines) + "\n")

    # when
    with pytest.raises(ImportFileError) as error:
        items_import(
            project=project,
            source=path,
            options=import_options_build(id_field="id", label_field="label"),
            batch_size=2,
        )

    # then
    assert error.value.message == "Line 9: unknown label 'eggs'; the project's labels are: ham, spam."
    assert error.value.line == 9
    assert Item.objects.filter(project=project).count() == 0
    assert Annotation.objects.filter(project=project).count() == 0


def test_an_empty_file_is_refused(project: Project, write: Callable[..., Path]) -> None:
    with pytest.raises(ImportFileError, match="The file holds no rows to import."):
        items_import(project=project, source=write("e.csv", "id,text\n"), options=import_options_build())


@pytest.mark.parametrize("fmt", ["jsonl", "json", "parquet"])
def test_every_format_imports_the_same_items(project: Project, tmp_path: Path, fmt: str) -> None:
    # given
    records = [{"uid": "x1", "body": "first", "score": 1.5}, {"uid": "x2", "body": "second", "score": 2.0}]
    path = tmp_path / f"items.{fmt}"
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
    elif fmt == "json":
        path.write_text(json.dumps(records))
    else:
        pq.write_table(pa.Table.from_pylist(records), path)

    # when
    result = items_import(
        project=project, source=path, options=import_options_build(text_field="body", id_field="uid")
    )

    # then
    assert result.items_created == 2
    assert list(
        Item.objects.filter(project=project)
        .order_by("external_id")
        .values_list("external_id", "text", "metadata")
    ) == [
        ("x1", "first", {"score": 1.5}),
        ("x2", "second", {"score": 2.0}),
    ]


def test_annotator_field_brings_each_persons_label_as_its_own_annotation(
    project: Project, write: Callable[..., Path]
) -> None:
    # given two people's labels for the same item, in two files (one row per item and person)
    items_import(
        project=project,
        source=write("a.csv", "id,text,label,who\n1,hi,ham,ann\n"),
        options=import_options_build(id_field="id", label_field="label", annotator_field="who"),
    )

    # when
    items_import(
        project=project,
        source=write("b.csv", "id,text,label,who\n1,hi,spam,bob\n"),
        options=import_options_build(
            id_field="id", label_field="label", annotator_field="who", on_conflict=OnConflict.UPDATE
        ),
    )

    # then
    rows = sorted(Annotation.objects.filter(project=project).values_list("external_annotator", "labels"))
    assert rows == [("ann", ["ham"]), ("bob", ["spam"])]


def test_multi_label_project_imports_label_lists(write: Callable[..., Path]) -> None:
    project = ProjectFactory(multi_label=True, labels=["bug", "ux", "perf"])
    items_import(
        project=project,
        source=write("m.jsonl", '{"text": "slow and ugly", "tags": ["ux", "perf"]}\n'),
        options=import_options_build(label_field="tags"),
    )
    assert Annotation.objects.get(project=project).labels == ["ux", "perf"]


def test_wrench_folder_imports_splits_gold_labels_and_lf_votes(shared_data: Path) -> None:
    # given
    root = shared_data / "wrench" / "youtube_v1_paper"
    project = ProjectFactory(labels=["ham", "spam"])
    expected_votes = sum(
        sum(1 for vote in entry["weak_labels"] if vote != -1)
        for split in ("train", "valid", "test")
        for entry in json.loads((root / f"{split}.json").read_text()).values()
    )

    # when
    result = items_import(project=project, source=root, options=import_options_build(format="wrench"))

    # then
    assert result.items_created == 1956
    splits = {
        split: Item.objects.filter(project=project, split=split).count()
        for split in ("train", "valid", "test")
    }
    assert splits == {"train": 1586, "valid": 120, "test": 250}
    assert result.labeling_functions == 10
    assert LabelingFunction.objects.filter(project=project, name="keyword_subscribe").exists()
    assert (
        ExternalVote.objects.filter(item__project=project).count() == expected_votes == result.votes_imported
    )
    assert Annotation.objects.filter(project=project).count() == 1956


def test_wrench_zip_upload_is_unpacked(shared_data: Path, tmp_path: Path) -> None:
    # given the folder zipped, as a browser would upload it
    archive = tmp_path / "youtube.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for file in (shared_data / "wrench" / "youtube_v1_paper").iterdir():
            bundle.write(file, f"youtube/{file.name}")
    project = ProjectFactory(labels=["ham", "spam"])

    # when
    result = items_import(project=project, source=archive, options=import_options_build())

    # then
    assert result.items_created == 1956


def test_import_job_records_success_and_counts(project: Project, write: Callable[..., Path]) -> None:
    # given
    options = import_options_build(id_field="id", label_field="label")
    job = import_job_create(
        project=project, created_by=None, source_path=str(write("a.csv", CSV)), options=options, enqueue=False
    )

    # when
    import_job_run(job=job)

    # then
    job.refresh_from_db()
    assert (job.status, job.rows_total, job.items_created, job.annotations_imported) == (
        ImportStatus.SUCCEEDED,
        3,
        3,
        2,
    )
    assert job.format == "csv"
    assert job.finished_at is not None


def test_import_job_records_failure_with_its_line(project: Project, write: Callable[..., Path]) -> None:
    # given
    job = import_job_create(
        project=project,
        created_by=None,
        source_path=str(write("b.csv", "id,text\n1,\n")),
        options=import_options_build(id_field="id"),
        enqueue=False,
    )

    # when
    with pytest.raises(ImportFileError):
        import_job_run(job=job)

    # then
    job = ImportJob.objects.get(pk=job.pk)
    assert (job.status, job.error, job.error_line) == (
        ImportStatus.FAILED,
        "Line 2: the text field 'text' is empty.",
        2,
    )
    assert Item.objects.filter(project=project).count() == 0


def test_a_finished_job_is_not_run_twice(project: Project, write: Callable[..., Path]) -> None:
    job = import_job_create(
        project=project,
        created_by=None,
        source_path=str(write("a.csv", CSV)),
        options=import_options_build(id_field="id"),
        enqueue=False,
    )
    import_job_run(job=job)
    import_job_run(job=job)
    assert ImportJob.objects.get(pk=job.pk).items_created == 3
    assert Item.objects.filter(project=project).count() == 3


@pytest.mark.parametrize("batch_size", [1, 2, 5000])
def test_one_file_in_long_format_brings_each_annotators_label(
    write: Callable[..., Path], batch_size: int
) -> None:
    # given one row per item and annotator (an item's rows may fall into different batches)
    project = ProjectFactory(overlap=2)
    source = write("long.csv", "id,text,label,who\n1,hi,ham,ann\n1,hi,spam,bob\n2,yo,ham,ann\n1,hi,ham,cy\n")

    # when
    result = items_import(
        project=project,
        source=source,
        batch_size=batch_size,
        options=import_options_build(id_field="id", label_field="label", annotator_field="who"),
    )

    # then
    assert (result.rows, result.items_created, result.annotations_imported) == (4, 2, 4)
    rows = sorted(
        Annotation.objects.filter(project=project).values_list(
            "item__external_id", "external_annotator", "labels"
        )
    )
    assert rows == [
        ("1", "ann", ["ham"]),
        ("1", "bob", ["spam"]),
        ("1", "cy", ["ham"]),
        ("2", "ann", ["ham"]),
    ]
    assert dict(Item.objects.filter(project=project).values_list("external_id", "remaining")) == {
        "1": -1,
        "2": 1,
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id,text,label,who\n1,hi,ham,ann\n1,hi,spam,ann\n", "Line 3: duplicate id '1' for annotator 'ann'"),
        (
            "id,text,label,who\n1,hi,ham,ann\n1,hello,spam,bob\n",
            "Line 3: id '1' has a different text than at line 2",
        ),
    ],
)
def test_long_format_mistakes_are_refused_with_their_line(
    project: Project, write: Callable[..., Path], content: str, message: str
) -> None:
    with pytest.raises(ImportFileError, match=message):
        items_import(
            project=project,
            source=write("bad.csv", content),
            options=import_options_build(id_field="id", label_field="label", annotator_field="who"),
        )
    assert Item.objects.filter(project=project).count() == 0


def test_an_import_of_several_peoples_labels_sends_their_disagreements_to_review(
    write: Callable[..., Path],
) -> None:
    # given
    project = ProjectFactory(review_audit_rate=0.0)
    source = write("long.csv", "id,text,label,who\n1,hi,ham,ann\n1,hi,spam,bob\n2,yo,ham,ann\n2,yo,ham,bob\n")
    options = import_options_build(id_field="id", label_field="label", annotator_field="who")
    job = import_job_create(
        project=project, created_by=None, source_path=str(source), options=options, enqueue=False
    )

    # when
    import_job_run(job=job)

    # then
    queued = ReviewRequest.objects.filter(project=project).values_list("item__external_id", "reasons")
    assert list(queued) == [("1", ["disagreement"])]
