"""The import service on SQLite (the ORM writer). tests/integration runs the same cases on PostgreSQL."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.cache import cache
from django.db import OperationalError
from django.utils import timezone

from imports.parsing.errors import ImportFileError
from imports.selectors import import_heartbeat_key
from imports.services.jobs import (
    import_job_create,
    import_job_run,
    import_jobs_recover,
    import_options_build,
    items_import,
)
from imports.tasks import import_job_run_task
from labeling.choices import AnnotationSource
from labeling.models import Annotation, EvaluationLabel
from oversight.models import ReviewRequest
from projects.choices import ImportStatus, OnConflict, ProjectKind
from projects.models import ImportJob, Item, Project
from tests.projects.factories import ProjectFactory
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
    project = ProjectFactory(kind=ProjectKind.MULTI, multi_label=True, labels=["bug", "ux", "perf"])
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
    # the valid split's labels are the usable gold; train and test labels only score, and fill no queue slot
    assert Annotation.objects.filter(project=project).count() == 120
    assert set(Annotation.objects.filter(project=project).values_list("item__split", flat=True)) == {"valid"}
    assert result.evaluation_labels == EvaluationLabel.objects.filter(project=project).count() == 1836
    assert set(EvaluationLabel.objects.filter(project=project).values_list("item__split", flat=True)) == {
        "train",
        "test",
    }
    assert not Item.objects.filter(project=project, split__in=["train", "test"], remaining=0).exists()


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


# --- Job lifecycle: a job never stays running or pending forever ---------------------------------------------
def _job(project: Project, write: Callable[..., Path], **fields: Any) -> ImportJob:
    job = import_job_create(
        project=project, created_by=None, source_path=str(write("a.csv", CSV)),
        options=import_options_build(id_field="id"), enqueue=False,
    )  # fmt: skip
    if fields:
        ImportJob.objects.filter(pk=job.pk).update(**fields)
        job.refresh_from_db()
    return job


def test_a_running_job_whose_worker_died_is_run_again_by_the_sweep(
    project: Project, write: Callable[..., Path], django_capture_on_commit_callbacks: Any
) -> None:
    # given a job left running by a worker that died 10 minutes ago (no heartbeat since)
    job = _job(project, write, status=ImportStatus.RUNNING, attempts=1,
               heartbeat_at=timezone.now() - timedelta(minutes=10))  # fmt: skip

    # when the periodic sweep runs (and its re-enqueued task runs)
    with django_capture_on_commit_callbacks(execute=True):
        result = import_jobs_recover()

    # then it was run again, to the end, and counted as a second attempt
    job.refresh_from_db()
    assert (result.requeued, result.failed) == ([job.pk], [])
    assert (job.status, job.attempts, job.items_created, job.error) == (ImportStatus.SUCCEEDED, 2, 3, "")
    assert Item.objects.filter(project=project).count() == 3


def test_a_running_job_with_a_live_heartbeat_is_left_alone(
    project: Project, write: Callable[..., Path]
) -> None:
    # given a job whose attempt began long ago but whose worker still beats
    job = _job(project, write, status=ImportStatus.RUNNING, attempts=1,
               heartbeat_at=timezone.now() - timedelta(hours=2))  # fmt: skip
    cache.set(import_heartbeat_key(job.pk), 1.0, 60)

    # when the sweep runs, and a second delivery of its message arrives
    result = import_jobs_recover()
    import_job_run(job=job)

    # then neither touched it
    job.refresh_from_db()
    assert (result.requeued, result.failed) == ([], [])
    assert (job.status, job.attempts) == (ImportStatus.RUNNING, 1)
    assert Item.objects.filter(project=project).count() == 0


def test_a_job_whose_attempts_are_spent_is_failed_with_the_reason(
    project: Project, write: Callable[..., Path]
) -> None:
    # given a job whose worker died on its third attempt
    job = _job(project, write, status=ImportStatus.RUNNING, attempts=3,
               heartbeat_at=timezone.now() - timedelta(minutes=10))  # fmt: skip

    # when the sweep runs
    result = import_jobs_recover()

    # then it is failed, saying why, and nothing was imported
    job.refresh_from_db()
    assert (result.requeued, result.failed) == ([], [job.pk])
    assert job.status == ImportStatus.FAILED
    assert job.error == (
        "The import failed 3 times; the last: its worker stopped (died, was killed or ran out of time) without "
        "finishing. Nothing was imported."
    )
    assert job.finished_at is not None
    assert Item.objects.filter(project=project).count() == 0


def test_a_pending_job_that_no_worker_took_is_enqueued_again_then_failed_after_a_day(
    project: Project, write: Callable[..., Path]
) -> None:
    # given a job pending for 20 minutes (its message lost) and one pending for two days
    lost = _job(project, write, updated_at=timezone.now() - timedelta(minutes=20))
    ancient = _job(project, write, created_at=timezone.now() - timedelta(days=2),
                   updated_at=timezone.now() - timedelta(days=2))  # fmt: skip

    # when the sweep runs
    result = import_jobs_recover()

    # then the first is enqueued again (once: its updated_at moves on) and the second is failed
    ancient.refresh_from_db()
    assert (result.requeued, result.failed) == ([lost.pk], [ancient.pk])
    assert (ancient.status, ancient.error) == (
        ImportStatus.FAILED, "No worker started the import within a day; nothing was imported. Start it again."
    )  # fmt: skip
    assert import_jobs_recover().requeued == []


def test_a_crashed_attempt_goes_back_to_pending_and_the_last_one_fails(
    project: Project, write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an import that crashes with a database error
    def crash(**kwargs: Any) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("imports.services.jobs.items_import", crash)
    job = _job(project, write)

    # when it is run three times (the task retries while the job is pending)
    statuses = []
    for _ in range(3):
        with pytest.raises(OperationalError):
            import_job_run(job=job)
        job.refresh_from_db()
        statuses.append((job.status, job.attempts))

    # then the first two put it back to pending and the third failed it with the reason
    assert statuses == [(ImportStatus.PENDING, 1), (ImportStatus.PENDING, 2), (ImportStatus.FAILED, 3)]
    assert job.error == (
        "The import failed 3 times; the last: OperationalError: server closed the connection unexpectedly. "
        "Nothing was imported."
    )


@pytest.mark.parametrize(
    ("raised", "message"),
    [
        (SoftTimeLimitExceeded(), "The import ran past its time limit and was stopped; nothing was imported. "
                                  "Split the file."),
        (KeyboardInterrupt(), "The import was interrupted; nothing was imported. Start it again."),
    ],
)  # fmt: skip
def test_a_timed_out_or_interrupted_import_is_failed_with_the_reason(
    project: Project, write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, raised: BaseException,
    message: str,
) -> None:  # fmt: skip
    def stop(**kwargs: Any) -> None:
        raise raised

    monkeypatch.setattr("imports.services.jobs.items_import", stop)
    job = _job(project, write)
    with pytest.raises(type(raised)):
        import_job_run(job=job)
    job.refresh_from_db()
    assert (job.status, job.error, job.attempts) == (ImportStatus.FAILED, message, 1)


def test_the_task_retries_a_crashed_attempt_until_the_job_fails(
    project: Project, write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an import that always crashes
    calls = []

    def crash(**kwargs: Any) -> None:
        calls.append(1)
        raise OperationalError("gone")

    monkeypatch.setattr("imports.services.jobs.items_import", crash)
    job = _job(project, write)

    # when the task runs it (eagerly, as in embedded mode: the next attempt starts at once)
    import_job_run_task.apply(args=[job.pk])

    # then it was tried IMPORT_JOB_MAX_ATTEMPTS times and the job is failed, not left pending
    job.refresh_from_db()
    assert (len(calls), job.status, job.attempts) == (3, ImportStatus.FAILED, 3)


def test_the_import_page_says_a_crashed_attempt_will_be_retried(
    project: Project, write: Callable[..., Path], member_factory: Callable[..., Any]
) -> None:
    from django.test import Client

    job = _job(
        project, write, attempts=1, error="Attempt failed (OperationalError: gone); it will be tried again."
    )
    client = Client()
    client.force_login(member_factory(project, "owner").user)
    page = client.get(f"/projects/{project.slug}/imports/{job.pk}/").content.decode()
    assert "Attempt failed (OperationalError: gone); it will be tried again. (attempt 2)" in page


def test_the_sweep_is_on_the_beat_schedule(settings: Any) -> None:
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["import-jobs-recover"]
    assert entry == {"task": "labeling.tasks.import_jobs_recover_task", "schedule": 60.0}
    assert entry["task"] in app.tasks


def test_embedded_mode_at_start_runs_again_an_import_whose_process_was_just_killed(
    project: Project, write: Callable[..., Path], django_capture_on_commit_callbacks: Any
) -> None:
    # given a job left running a minute ago by an embedded server that was killed (no beat in embedded mode)
    from django.core.management import call_command

    job = _job(project, write, status=ImportStatus.RUNNING, attempts=1,
               heartbeat_at=timezone.now() - timedelta(minutes=1))  # fmt: skip
    out = io.StringIO()

    # when `make run` starts the server again (it calls the sweep with --stale-seconds 0)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_jobs_recover", "--stale-seconds", "0", stdout=out)

    # then the import was run again, to the end, in this process
    job.refresh_from_db()
    assert (job.status, job.attempts, job.items_created) == (ImportStatus.SUCCEEDED, 2, 3)
    assert "Imports run again: 1; failed with the reason: 0." in out.getvalue()
    # while the plain sweep (beat's) leaves a job that beat a minute ago alone
    fresh = _job(project, write, status=ImportStatus.RUNNING, attempts=1, heartbeat_at=timezone.now())
    call_command("import_jobs_recover", stdout=io.StringIO())
    fresh.refresh_from_db()
    assert fresh.status == ImportStatus.RUNNING
