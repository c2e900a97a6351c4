"""The import service on PostgreSQL: the COPY writer, all-or-nothing batches, and a real WRENCH dataset."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext

from imports.parsing.errors import ImportFileError
from imports.parsing.rows import FieldMapping
from imports.selectors import import_progress_key
from imports.services.jobs import (
    ImportOptions,
    import_job_create,
    import_job_run,
    import_options_build,
    items_import,
)
from imports.services.writers import PostgresBatchWriter, batch_writer_for_connection
from labeling.choices import AnnotationSource
from labeling.models import Annotation, EvaluationLabel, ItemAnswerSummary
from projects.choices import ImportStatus, OnConflict
from projects.models import Item, Project
from tests.plugins.real_services import RealServices
from tests.projects.factories import ProjectFactory
from weak_supervision.models import ExternalVote, LabelingFunction

pytestmark = pytest.mark.integration

ITEMS_CSV = (
    "id,text,label\n"
    "a1,Buy cheap watches now,spam\n"
    "a2,See you at lunch,ham\n"
    "a3,Meeting moved to Friday,\n"
    "a4,You won a prize,spam\n"
    "a5,Notes from the call,\n"
)
SPLIT_CSV = (
    "id,text,label,split\n"
    "a1,Buy cheap watches now,spam,train\n"
    "a2,See you at lunch,ham,valid\n"
    "a3,Meeting moved to Friday,ham,test\n"
    "a4,You won a prize,spam,test\n"
    "a5,Notes from the call,,test\n"
)
WRENCH_SPLITS = {"train": 1586, "valid": 120, "test": 250}
YOUTUBE_LFS = [
    "keyword_my",
    "keyword_subscribe",
    "keyword_link",
    "keyword_please",
    "keyword_song",
    "regex_check_out",
    "short_comment",
    "has_person_nlp",
    "textblob_polarity",
    "textblob_subjectivity",
]


def csv_options(on_conflict: str = OnConflict.SKIP) -> ImportOptions:
    return ImportOptions(
        format="csv", on_conflict=on_conflict, mapping=FieldMapping(id_field="id", label_field="label")
    )


def project_items(project: Project) -> list[tuple[str, str]]:
    return list(
        Item.objects.filter(project=project).order_by("external_id").values_list("external_id", "text")
    )


def project_remaining(project: Project) -> dict[str, int]:
    return dict(Item.objects.filter(project=project).values_list("external_id", "remaining"))


def project_evaluation_labels(project: Project) -> list[tuple[str, list[str]]]:
    return list(
        EvaluationLabel.objects.filter(project=project)
        .order_by("item__external_id")
        .values_list("item__external_id", "labels")
    )


def project_annotations(project: Project) -> list[tuple[str, list[str], str]]:
    return list(
        Annotation.objects.filter(project=project)
        .order_by("item__external_id")
        .values_list("item__external_id", "labels", "source")
    )


@pytest.mark.django_db
def test_csv_import_writes_items_and_annotations_with_copy(
    project: Project, write_file: Callable[[str, str], Path]
) -> None:
    # given a CSV of five rows, three of them labeled, and the writer chosen for this connection
    source = write_file("items.csv", ITEMS_CSV)
    writer = batch_writer_for_connection(
        project=project, on_conflict=OnConflict.SKIP, label_ids={}, import_job=None
    )

    # when it is imported in batches of two
    result = items_import(project=project, source=source, options=csv_options(), batch_size=2)

    # then PostgreSQL's COPY writer stored every row and the imported annotations
    assert type(writer) is PostgresBatchWriter
    assert (result.rows, result.items_created, result.items_updated, result.items_skipped) == (5, 5, 0, 0)
    assert result.annotations_imported == 3
    assert project_items(project) == [
        ("a1", "Buy cheap watches now"),
        ("a2", "See you at lunch"),
        ("a3", "Meeting moved to Friday"),
        ("a4", "You won a prize"),
        ("a5", "Notes from the call"),
    ]
    assert project_annotations(project) == [
        ("a1", ["spam"], AnnotationSource.IMPORT),
        ("a2", ["ham"], AnnotationSource.IMPORT),
        ("a4", ["spam"], AnnotationSource.IMPORT),
    ]
    # an imported label fills one of the item's open queue slots
    assert project_remaining(project) == {"a1": 0, "a2": 0, "a3": 1, "a4": 0, "a5": 1}


@pytest.mark.django_db
def test_reimporting_with_skip_changes_nothing(
    project: Project, write_file: Callable[[str, str], Path]
) -> None:
    # given a CSV already imported
    source = write_file("items.csv", ITEMS_CSV)
    items_import(project=project, source=source, options=csv_options(), batch_size=2)
    items_before, annotations_before = project_items(project), project_annotations(project)

    # when the same file is imported again, skipping known ids
    result = items_import(project=project, source=source, options=csv_options(OnConflict.SKIP), batch_size=2)

    # then every row is skipped and the project is unchanged
    assert (result.rows, result.items_created, result.items_updated, result.items_skipped) == (5, 0, 0, 5)
    assert result.annotations_imported == 0
    assert project_items(project) == items_before
    assert project_annotations(project) == annotations_before


@pytest.mark.django_db
def test_reimporting_with_update_replaces_text_and_labels(
    project: Project, write_file: Callable[[str, str], Path]
) -> None:
    # given a CSV already imported, then an edited version of it
    items_import(
        project=project, source=write_file("items.csv", ITEMS_CSV), options=csv_options(), batch_size=2
    )
    edited_csv = (
        ITEMS_CSV.replace("Buy cheap watches now", "Buy cheap watches today")
        .replace("See you at lunch,ham", "See you at lunch,spam")
        .replace("Meeting moved to Friday,", "Meeting moved to Friday,ham")
    )
    edited = write_file("edited.csv", edited_csv)

    # when the edited file is imported, updating known ids
    result = items_import(
        project=project, source=edited, options=csv_options(OnConflict.UPDATE), batch_size=2
    )

    # then the known items and their imported annotations carry the new values; nothing is added
    assert (result.rows, result.items_created, result.items_updated, result.items_skipped) == (5, 0, 5, 0)
    assert result.annotations_imported == 4
    assert project_items(project)[:2] == [("a1", "Buy cheap watches today"), ("a2", "See you at lunch")]
    assert Item.objects.filter(project=project).count() == 5
    assert project_annotations(project) == [
        ("a1", ["spam"], AnnotationSource.IMPORT),
        ("a2", ["spam"], AnnotationSource.IMPORT),
        ("a3", ["ham"], AnnotationSource.IMPORT),
        ("a4", ["spam"], AnnotationSource.IMPORT),
    ]
    # a changed label fills no new slot; the new label on a3 fills one
    assert project_remaining(project) == {"a1": 0, "a2": 0, "a3": 0, "a4": 0, "a5": 1}


@pytest.mark.django_db(transaction=True)
def test_a_bad_last_line_leaves_nothing_behind(
    project: Project, write_file: Callable[[str, str], Path]
) -> None:
    # given a CSV whose last row, in the fourth batch of two, has an unknown label
    source = write_file("items.csv", ITEMS_CSV + "a6,Lunch menu,ham\na7,Spam again,eggs\n")

    # when it is imported
    with pytest.raises(ImportFileError) as raised:
        items_import(project=project, source=source, options=csv_options(), batch_size=2)

    # then the error names the line, and the three batches already written were rolled back
    assert raised.value.message == "Line 8: unknown label 'eggs'; the project's labels are: ham, spam."
    assert raised.value.line == 8
    assert Item.objects.filter(project=project).count() == 0
    assert Annotation.objects.filter(project=project).count() == 0


@pytest.mark.django_db
def test_wrench_youtube_import_brings_splits_gold_labels_and_lf_votes(
    project: Project, shared_data: Path
) -> None:
    # given the WRENCH youtube dataset, and what its files hold
    folder = shared_data / "wrench" / "youtube_v1_paper"
    records = [
        record
        for split in WRENCH_SPLITS
        for record in json.loads((folder / f"{split}.json").read_text()).values()
    ]
    gold = sum(1 for record in records if record["label"] not in (None, -1))
    votes = sum(1 for record in records for vote in record["weak_labels"] if vote != -1)

    # when the folder is imported
    result = items_import(project=project, source=folder, options=ImportOptions(format="wrench"))

    # then every record is an item in its split, with its gold label and one vote per non-abstaining LF
    assert (result.rows, result.items_created, result.labeling_functions) == (1956, 1956, 10)
    splits = Counter(Item.objects.filter(project=project).values_list("split", flat=True))
    assert dict(splits) == WRENCH_SPLITS
    lf_names = LabelingFunction.objects.filter(project=project).order_by("id").values_list("name", flat=True)
    assert list(lf_names) == YOUTUBE_LFS
    # the valid split's labels are imported annotations (the usable gold); train and test labels only score
    valid_gold = sum(
        1
        for record in json.loads((folder / "valid.json").read_text()).values()
        if record["label"] not in (None, -1)
    )
    assert result.annotations_imported == valid_gold
    assert Annotation.objects.filter(project=project, source=AnnotationSource.IMPORT).count() == valid_gold
    assert (
        result.evaluation_labels
        == EvaluationLabel.objects.filter(project=project).count()
        == gold - valid_gold
    )
    assert result.votes_imported == votes
    assert ExternalVote.objects.filter(item__project=project).count() == votes


@pytest.mark.django_db
def test_evaluation_only_labels_go_in_with_copy_and_an_update_rewrites_them(
    project: Project, write_file: Callable[[str, str], Path]
) -> None:
    # given a CSV whose test rows are evaluation-only, imported in batches of two by the COPY writer
    source = write_file("items.csv", SPLIT_CSV)
    options = import_options_build(
        id_field="id", label_field="label", split_field="split", eval_only_splits=["test"]
    )

    # when it is imported, then imported again with one test label changed, updating
    first = items_import(project=project, source=source, options=options, batch_size=2)
    stored = project_evaluation_labels(project)
    options.on_conflict = OnConflict.UPDATE
    changed = write_file(
        "changed.csv", SPLIT_CSV.replace("a4,You won a prize,spam", "a4,You won a prize,ham")
    )
    second = items_import(project=project, source=changed, options=options, batch_size=2)

    # then test labels are evaluation-only labels, not annotations, and fill no queue slot
    assert (first.annotations_imported, first.evaluation_labels) == (2, 2)
    assert stored == [("a3", ["ham"]), ("a4", ["spam"])]
    assert project_annotations(project) == [
        ("a1", ["spam"], AnnotationSource.IMPORT),
        ("a2", ["ham"], AnnotationSource.IMPORT),
    ]
    assert project_remaining(project) == {"a1": 0, "a2": 0, "a3": 1, "a4": 1, "a5": 1}
    # and the update replaced the changed one in place
    assert second.evaluation_labels == 2
    assert project_evaluation_labels(project) == [("a3", ["ham"]), ("a4", ["ham"])]


@pytest.mark.django_db
def test_import_progress_is_published_in_redis_while_the_job_runs(
    project: Project, write_file: Callable[[str, str], Path], real_services: RealServices
) -> None:
    # given a tracked import job, not enqueued, and a Redis client beside Django's cache
    job = import_job_create(
        project=project,
        created_by=None,
        options=csv_options(),
        source_path=str(write_file("items.csv", ITEMS_CSV)),
        enqueue=False,
    )
    client = redis.Redis.from_url(real_services.redis_url)
    key = f":1:{import_progress_key(job.pk)}"
    seen: list[tuple[int, bool]] = []

    # when it runs
    import_job_run(job=job, on_progress=lambda rows, fraction: seen.append((rows, bool(client.exists(key)))))

    # then the progress sat in Redis while it ran, and is gone once the job finished
    assert seen == [(5, True)]
    assert client.exists(key) == 0
    job.refresh_from_db()
    assert (job.status, job.rows_total, job.items_created) == (ImportStatus.SUCCEEDED, 5, 5)


@pytest.mark.django_db
def test_long_format_with_copy_creates_each_item_once(write_file: Callable[[str, str], Path]) -> None:
    # given one row per item and annotator, split over batches of two rows
    project = ProjectFactory(overlap=3)
    source = write_file(
        "long.csv", "id,text,label,who\na1,hi,ham,ann\na1,hi,spam,bob\na2,yo,ham,ann\na1,hi,ham,cy\n"
    )

    # when
    result = items_import(
        project=project,
        source=source,
        batch_size=2,
        options=import_options_build(id_field="id", label_field="label", annotator_field="who"),
    )

    # then
    assert (result.items_created, result.annotations_imported) == (2, 4)
    assert project_remaining(project) == {"a1": 0, "a2": 2}
    assert sorted(
        Annotation.objects.filter(project=project).values_list("external_annotator", flat=True)
    ) == [
        "ann",
        "ann",
        "bob",
        "cy",
    ]


@pytest.mark.django_db(transaction=True)
def test_a_large_import_refreshes_the_planners_statistics_and_visibility_map(tmp_path: Path) -> None:
    # given a file of more rows than STATISTICS_ROWS
    project = ProjectFactory()
    path = tmp_path / "items.jsonl"
    path.write_text("".join(json.dumps({"id": f"i{n}", "text": f"message {n}"}) + "\n" for n in range(6000)))

    # when it is imported (committed: VACUUM (ANALYZE) runs after the commit)
    items_import(project=project, source=path, options=import_options_build(format="jsonl", id_field="id"))

    # then the items table was vacuumed and analysed: PostgreSQL knows how many rows it holds. (The pages are
    # not marked all-visible here: this throwaway server commits asynchronously, and VACUUM may not mark a
    # page whose commit record is not yet on disk.)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [Item._meta.db_table])
        (reltuples,) = cursor.fetchone()
        cursor.execute(
            "SELECT last_vacuum, last_analyze FROM pg_stat_user_tables WHERE relname = %s",
            [Item._meta.db_table],
        )
        vacuumed, analysed = cursor.fetchone()
    assert reltuples == Item.objects.count() == 6000
    assert vacuumed is not None
    assert analysed is not None


# --- Hostile text on PostgreSQL (which refuses NUL in text and jsonb, and lone surrogates, mid-COPY) ---------
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("nul.csv", b"id,text\na1,fine\na2,bad \x00 text\n",
         "Line 3: holds a NUL byte (\\x00), which no text may contain; remove it and import again."),
        ("nul.jsonl", b'{"id": "a1", "text": "fine"}\n{"id": "a2", "text": "bad \\u0000"}\n',
         "Line 2: the text holds a NUL byte (\\x00), which no text may contain."),
        ("nul.json", b'[{"id": "a1", "text": "fine"}, {"id": "a2", "text": "ok", "note": "\\u0000"}]',
         "Record 2: the metadata holds a NUL byte (\\x00), which no text may contain."),
        ("surrogate.jsonl", b'{"id": "a1", "text": "fine"}\n{"id": "a2\\udc00", "text": "t"}\n',
         "Line 2: the id is not valid text (a lone UTF-16 surrogate, \\udc00); fix the file's encoding."),
        ("utf8.csv", b"id,text\na1,fine\na2,caf\xe9\n",
         "Line 3: not valid UTF-8 (byte 7 of the line). Save the file as UTF-8."),
        ("float.jsonl", b'{"id": "a1", "text": 1.5}\n',
         "Line 1: the text field 'text' holds a number 1.5; it must be a string or an integer."),
    ],
)  # fmt: skip
def test_hostile_text_is_refused_with_its_line_on_postgresql(
    project: Project, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    # given a file with one hostile value after a good one
    source = tmp_path / name
    source.write_bytes(content)

    # when it is imported on PostgreSQL
    with pytest.raises(ImportFileError) as raised:
        items_import(project=project, source=source, options=import_options_build(id_field="id"))

    # then the error names the line, and nothing reached the database
    assert raised.value.message == message
    assert Item.objects.filter(project=project).count() == 0


@pytest.mark.django_db
def test_an_update_import_rewrites_known_items_and_their_labels_with_one_statement_per_batch(
    project: Project, write_file: Callable[[str, str], Path]
) -> None:
    # given 30 imported items with a source, a split and a label
    first = "id,text,label,split,source\n" + "".join(f"k{n},text {n},spam,train,old\n" for n in range(30))
    options = import_options_build(
        id_field="id", label_field="label", split_field="split", metadata_fields=["source"],
        on_conflict=OnConflict.UPDATE,
    )  # fmt: skip
    items_import(project=project, source=write_file("first.csv", first), options=options)
    again = "id,text,label,split,source\n" + "".join(f"k{n},new text {n},ham,test,new\n" for n in range(30))

    # when the file comes again with every field changed, in batches of ten
    with CaptureQueriesContext(connection) as queries:
        result = items_import(
            project=project, source=write_file("again.csv", again), options=options, batch_size=10
        )

    # then every item and its imported answer carry the new values, the summaries follow, and each batch
    # updated its items and its answers with one statement each (not one per row, nor a CASE per row)
    assert (result.items_updated, result.annotations_imported) == (30, 30)
    items = Item.objects.filter(project=project)
    assert set(items.values_list("split", flat=True)) == {"test"}
    assert {item.metadata["source"] for item in items} == {"new"}
    assert sorted(items.values_list("text", flat=True)) == sorted(f"new text {n}" for n in range(30))
    assert {tuple(labels) for _, labels, _ in project_annotations(project)} == {("ham",)}
    summaries = ItemAnswerSummary.objects.filter(project=project).values_list("labels", flat=True)
    assert {tuple(labels) for labels in summaries} == {("ham",)}
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert sum("labeling_item" in sql.split(" SET ")[0] for sql in updates) == 3
    assert sum("labeling_annotation" in sql.split(" SET ")[0] for sql in updates) == 3
    assert not any("CASE WHEN" in sql for sql in updates)
