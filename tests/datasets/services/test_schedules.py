from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask, PeriodicTasks
from django_celery_beat.schedulers import DatabaseScheduler

from config.celery import app as celery_app
from datasets import tasks
from datasets.choices import ExportFormat, LabelPolicy, SnapshotStatus, Trigger
from datasets.models import ExportSchedule, Snapshot
from datasets.services import schedules
from datasets.services import snapshots as snapshot_services
from datasets.services.schedules import (
    export_schedule_create,
    export_schedule_delete,
    export_schedule_run,
    export_schedule_run_now,
    export_schedule_update,
)
from datasets.services.snapshots import SnapshotRequest
from oversight.services.review import review_decide
from projects.models import Item, Project
from tests.datasets.factories import label_error_scan_with
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, UserFactory

pytestmark = pytest.mark.django_db
TASK = "datasets.tasks.export_schedule_run_task"


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _labeled(project: Project, n: int) -> list[Item]:
    """n items, each with two annotations that agree (a gold label): alternately ham and spam."""
    items = []
    for index in range(n):
        item = ItemFactory(project=project, external_id=f"s{index:03d}")
        answer = "spam" if index % 2 else "ham"
        AnnotationFactory(item=item, labels=[answer])
        AnnotationFactory(item=item, labels=[answer])
        items.append(item)
    return items


def _create(project: Project, **overrides: Any) -> ExportSchedule:
    fields: dict[str, Any] = {
        "project": project, "user": None, "name": "nightly", "every": 1, "period": "days", "crontab": "",
        "keep_last": 10, "request": SnapshotRequest(formats=[ExportFormat.JSONL]),
    }  # fmt: skip
    return export_schedule_create(**{**fields, **overrides})


def _files(media_root: Path) -> list[Path]:
    return sorted(path for path in media_root.rglob("*") if path.is_file())


def test_an_interval_schedule_gets_a_beat_entry_that_runs_its_task(project: Project) -> None:
    # given
    user = UserFactory()

    # when
    schedule = _create(project, user=user, every=6, period="hours", keep_last=3)

    # then
    schedule.refresh_from_db()
    task = PeriodicTask.objects.get()
    assert schedule.periodic_task == task
    assert (task.name, task.task, json.loads(task.args), task.enabled) == (
        f"oversight:export:{schedule.pk}", TASK, [schedule.pk], True,
    )  # fmt: skip
    assert (task.interval.every, task.interval.period, task.crontab) == (6, IntervalSchedule.HOURS, None)
    assert (schedule.every, schedule.period, schedule.crontab, schedule.keep_last) == (6, "hours", "", 3)
    assert (schedule.created_by, schedule.formats, schedule.policy) == (user, ["jsonl"], LabelPolicy.GOLD)
    assert tasks.export_schedule_run_task.name == TASK


def test_a_crontab_schedule_gets_a_utc_crontab_beat_entry(project: Project) -> None:
    # when
    schedule = _create(project, every=None, crontab=" 30  2 * *   mon-fri ")

    # then
    task = PeriodicTask.objects.get(name=f"oversight:export:{schedule.pk}")
    crontab = task.crontab
    assert task.interval is None
    assert (crontab.minute, crontab.hour, crontab.day_of_month, crontab.month_of_year, crontab.day_of_week) == (
        "30", "2", "*", "*", "mon-fri",
    )  # fmt: skip
    assert str(crontab.timezone) == "UTC"
    assert (schedule.every, schedule.period, schedule.crontab) == (None, "", "30 2 * * mon-fri")


def test_the_database_scheduler_reads_the_beat_entries(project: Project) -> None:
    # given
    hourly = _create(project, name="hourly", every=6, period="hours")
    cron = _create(project, name="cron", every=None, crontab="*/30 * * * 1-5")

    # when: what `celery -A config beat` (CELERY_BEAT_SCHEDULER) loads
    entries = DatabaseScheduler(app=celery_app, lazy=True).all_as_schedule()

    # then
    interval, crontab = entries[f"oversight:export:{hourly.pk}"], entries[f"oversight:export:{cron.pk}"]
    assert (interval.task, interval.args, interval.schedule.run_every) == (
        TASK,
        [hourly.pk],
        timedelta(hours=6),
    )
    assert (crontab.task, crontab.args, str(crontab.schedule.tz)) == (TASK, [cron.pk], "UTC")
    assert crontab.schedule.minute == {0, 30}
    assert crontab.schedule.day_of_week == {1, 2, 3, 4, 5}


def test_schedules_share_interval_rows(project: Project) -> None:
    # when
    _create(project, name="a", every=2, period="days")
    _create(project, name="b", every=2, period="days")

    # then
    assert IntervalSchedule.objects.count() == 1
    assert PeriodicTask.objects.count() == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"every": 1, "crontab": "0 3 * * *"}, schedules.ERROR_CADENCE_BOTH),
        ({"every": None, "crontab": "  "}, schedules.ERROR_CADENCE_NONE),
        ({"every": 0}, schedules.ERROR_EVERY),
        ({"every": 10_001}, schedules.ERROR_EVERY),
        ({"every": 2, "period": "minutes"}, schedules.ERROR_PERIOD),
        ({"every": None, "crontab": "0 3 * *"}, "A crontab has 5 fields, 'minute hour day month weekday'"),
        ({"every": None, "crontab": "61 3 * * *"}, "The crontab's minute field '61' is not valid (0-59)"),
        ({"every": None, "crontab": "0 24 * * *"}, "The crontab's hour field '24' is not valid (0-23)"),
        ({"every": None, "crontab": "0 3 0 * *"}, "The crontab's day of month field '0' is not valid (1-31)"),
        ({"every": None, "crontab": "0 3 * 13 *"}, "The crontab's month field '13' is not valid (1-12)"),
        ({"every": None, "crontab": "0 3 * * 8"}, "The crontab's day of week field '8' is not valid"),
        ({"every": None, "crontab": "x 3 * * *"}, "The crontab's minute field 'x' is not valid"),
        ({"keep_last": 0}, schedules.ERROR_KEEP_LAST),
        ({"keep_last": 1001}, schedules.ERROR_KEEP_LAST),
        ({"name": "  "}, schedules.ERROR_NAME_BLANK),
        ({"request": SnapshotRequest(formats=["xml"])}, "Choose at least one format"),
        ({"request": SnapshotRequest(splits=["dev"])}, "Unknown split(s) in the filter: dev"),
        ({"request": SnapshotRequest(fewshot_k=[0])}, "Few-shot sizes must be whole numbers"),
    ],
)
def test_a_bad_schedule_is_refused_with_a_clear_message_and_nothing_is_created(
    project: Project, overrides: dict[str, Any], message: str
) -> None:
    # when
    with pytest.raises(ValidationError) as caught:
        _create(project, **overrides)

    # then
    assert message in caught.value.messages[0]
    assert not ExportSchedule.objects.exists()
    assert not PeriodicTask.objects.exists()
    assert not IntervalSchedule.objects.exists()
    assert not CrontabSchedule.objects.exists()


def test_a_duplicate_name_in_the_project_is_refused(project: Project) -> None:
    # given
    _create(project, name="nightly")

    # when
    with pytest.raises(ValidationError) as caught:
        _create(project, name=" nightly ", every=None, crontab="0 3 * * *")

    # then
    assert caught.value.messages == ["This project already has an export schedule named 'nightly'."]
    assert caught.value.code == "name_taken"
    assert ExportSchedule.objects.count() == 1
    assert PeriodicTask.objects.count() == 1
    assert not CrontabSchedule.objects.exists()


def test_an_update_keeps_the_beat_entry_in_step(project: Project) -> None:
    # given
    schedule = _create(project, every=1, period="days")
    task_pk = schedule.periodic_task_id
    changed_before = PeriodicTasks.last_change()

    # when: a crontab alone switches the cadence
    export_schedule_update(schedule=schedule, crontab="15 4 * * 0", name="weekly", keep_last=2)

    # then
    task = PeriodicTask.objects.get()
    assert task.pk == task_pk
    assert (task.interval, task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == (
        None, "15", "4", "0",
    )  # fmt: skip
    assert task.description == f"Export schedule 'weekly' of project {project.slug}"
    schedule.refresh_from_db()
    assert (schedule.name, schedule.every, schedule.crontab) == ("weekly", None, "15 4 * * 0")
    assert schedule.keep_last == 2
    assert PeriodicTasks.last_change() > changed_before

    # when: back to an interval
    export_schedule_update(schedule=schedule, every=12, period="hours")

    # then
    task.refresh_from_db()
    assert (task.interval.every, task.interval.period, task.crontab) == (12, "hours", None)


def test_disabling_and_enabling_a_schedule_disables_and_enables_its_beat_entry(project: Project) -> None:
    # given
    schedule = _create(project)

    # when
    export_schedule_update(schedule=schedule, enabled=False)
    disabled = PeriodicTask.objects.get().enabled
    export_schedule_update(schedule=schedule, enabled=True)

    # then
    assert disabled is False
    assert PeriodicTask.objects.get().enabled is True


def test_an_update_leaves_the_last_run_written_meanwhile_by_a_worker(project: Project) -> None:
    # given: the page loaded the schedule, then a worker recorded a failed run
    schedule = _create(project)
    ExportSchedule.objects.filter(pk=schedule.pk).update(last_status=SnapshotStatus.FAILED, last_error="boom")

    # when
    export_schedule_update(schedule=schedule, enabled=False)

    # then
    schedule.refresh_from_db()
    assert (schedule.enabled, schedule.last_status, schedule.last_error) == (
        False,
        SnapshotStatus.FAILED,
        "boom",
    )


def test_an_update_that_fails_validation_changes_nothing(project: Project) -> None:
    # given
    schedule = _create(project, every=3, period="days")
    _create(project, name="other")

    # when
    with pytest.raises(ValidationError) as caught:
        export_schedule_update(schedule=schedule, name="other", every=5)

    # then
    assert caught.value.code == "name_taken"
    schedule.refresh_from_db()
    assert (schedule.name, schedule.every) == ("nightly", 3)
    assert PeriodicTask.objects.get(pk=schedule.periodic_task_id).interval.every == 3


def test_an_update_restores_a_beat_entry_removed_behind_its_back(project: Project) -> None:
    # given
    schedule = _create(project)
    PeriodicTask.objects.get().delete()
    schedule.refresh_from_db()

    # when
    export_schedule_update(schedule=schedule, keep_last=4)

    # then
    task = PeriodicTask.objects.get()
    assert (task.name, json.loads(task.args)) == (f"oversight:export:{schedule.pk}", [schedule.pk])


def test_deleting_a_schedule_removes_its_beat_entry_and_keeps_its_snapshots(project: Project) -> None:
    # given
    _labeled(project, 4)
    schedule = _create(project)
    snapshot = export_schedule_run(schedule=schedule)
    other = _create(project, name="other")

    # when
    export_schedule_delete(schedule=schedule)

    # then
    assert list(ExportSchedule.objects.all()) == [other]
    assert list(PeriodicTask.objects.values_list("name", flat=True)) == [f"oversight:export:{other.pk}"]
    snapshot.refresh_from_db()
    assert (snapshot.status, snapshot.version, snapshot.schedule) == (SnapshotStatus.SUCCEEDED, 1, None)


def test_unchanged_data_is_skipped_and_a_label_change_makes_a_new_version(project: Project) -> None:
    # given
    items = _labeled(project, 6)
    schedule = _create(project)

    # when
    first = export_schedule_run(schedule=schedule)
    second = export_schedule_run(schedule=schedule)
    review_decide(project=project, reviewer=UserFactory(), item_id=items[0].pk, labels=["spam"])
    third = export_schedule_run(schedule=schedule)

    # then
    assert (first.status, first.version, first.trigger, first.schedule) == (
        SnapshotStatus.SUCCEEDED, 1, Trigger.SCHEDULE, schedule,
    )  # fmt: skip
    assert (second.status, second.version, second.content_hash) == (
        SnapshotStatus.SKIPPED, None, first.content_hash,
    )  # fmt: skip
    assert (third.status, third.version) == (SnapshotStatus.SUCCEEDED, 2)
    assert third.content_hash != first.content_hash
    assert [entry["name"] for entry in third.manifest["files"]] == [
        "data.jsonl", "fewshot/k8.jsonl", "fewshot/k16.jsonl", "fewshot/k32.jsonl",
    ]  # fmt: skip
    schedule.refresh_from_db()
    assert (schedule.last_status, schedule.last_error) == (SnapshotStatus.SUCCEEDED, "")
    assert schedule.last_run_at == third.finished_at


def test_a_schedule_that_leaves_out_suspected_label_errors_makes_versions_without_them(
    project: Project,
) -> None:
    # given: the label-error scan flags one item of six
    items = _labeled(project, 6)
    label_error_scan_with(project, items[:1])
    schedule = _create(project)

    # when
    first = export_schedule_run(schedule=schedule)
    export_schedule_update(
        schedule=schedule, request=SnapshotRequest(formats=[ExportFormat.JSONL], exclude_label_errors=True)
    )
    second = export_schedule_run(schedule=schedule)

    # then
    schedule.refresh_from_db()
    assert schedule.exclude_label_errors is True
    assert (first.version, first.row_count, first.exclude_label_errors) == (1, 6, False)
    assert (second.status, second.version, second.row_count, second.exclude_label_errors) == (
        SnapshotStatus.SUCCEEDED, 2, 5, True,
    )  # fmt: skip
    assert second.manifest["label_errors"] == {"scan": 1, "flagged": 1, "excluded": 1}


def test_retention_keeps_the_newest_versions_of_the_schedule_and_deletes_the_oldest_files(
    project: Project, media_root: Path
) -> None:
    # given
    items = _labeled(project, 6)
    schedule = _create(project, keep_last=2)
    manual = snapshot_services.snapshot_create(
        project=project, user=None, request=SnapshotRequest(formats=[ExportFormat.CSV]), enqueue=False
    )
    snapshot_services.snapshot_build(snapshot_id=manual.pk)

    # when
    runs = []
    for index in range(3):
        review_decide(project=project, reviewer=UserFactory(), item_id=items[index].pk, labels=["spam"])
        runs.append(export_schedule_run(schedule=schedule))

    # then
    assert [run.version for run in runs] == [2, 3, 4]
    kept = Snapshot.objects.filter(schedule=schedule).order_by("version")
    assert [snapshot.version for snapshot in kept] == [3, 4]
    assert not Snapshot.objects.filter(pk=runs[0].pk).exists()
    assert Snapshot.objects.filter(pk=manual.pk, version=1).exists()  # not the schedule's
    assert _files(media_root / runs[0].storage_prefix) == []
    assert runs[0].manifest["files"]  # it had files
    for run in runs[1:]:
        assert all(Path(entry["path"]).is_file() for entry in run.manifest["files"])


def test_skipped_and_failed_run_records_are_kept_to_the_newest_keep_last(project: Project) -> None:
    # given
    _labeled(project, 4)
    schedule = _create(project, keep_last=2)

    # when
    runs = [export_schedule_run(schedule=schedule) for _ in range(5)]

    # then
    assert [run.status for run in runs] == [SnapshotStatus.SUCCEEDED] + [SnapshotStatus.SKIPPED] * 4
    remaining = Snapshot.objects.filter(schedule=schedule).order_by("pk")
    assert [snapshot.pk for snapshot in remaining] == [runs[0].pk, runs[3].pk, runs[4].pk]


def test_a_run_with_nothing_to_export_fails_with_its_message(project: Project) -> None:
    # given: items, none labeled
    ItemFactory.create_batch(2, project=project)
    schedule = _create(project)

    # when
    snapshot = export_schedule_run(schedule=schedule)

    # then
    assert (snapshot.status, snapshot.version) == (SnapshotStatus.FAILED, None)
    schedule.refresh_from_db()
    assert schedule.last_status == SnapshotStatus.FAILED
    assert schedule.last_error == snapshot_services.ERROR_NO_ROWS


def test_a_failing_build_marks_the_schedule_failed_leaves_no_version_or_files_and_is_retried(
    project: Project, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    _labeled(project, 4)
    schedule = _create(project)
    attempts = []

    def broken_upload(snapshot: Snapshot, folder: Path, names: Any) -> list[dict[str, Any]]:
        attempts.append(snapshot.pk)
        (media_root / snapshot.storage_prefix).mkdir(parents=True, exist_ok=True)
        (media_root / snapshot.storage_prefix / "data.jsonl").write_text("half a file")
        raise OSError("disk full")

    monkeypatch.setattr(snapshot_services, "_upload", broken_upload)
    # As on a worker: each retry runs (at once, eagerly) instead of the first failure propagating.
    monkeypatch.setitem(tasks.export_schedule_run_task.app.conf, "task_eager_propagates", False)

    # when
    result = tasks.export_schedule_run_task.apply(args=[schedule.pk])

    # then: the first attempt and three retries, each failing
    assert result.state == "FAILURE"
    assert isinstance(result.result, OSError)
    assert len(attempts) == 1 + tasks.export_schedule_run_task.max_retries == 4
    assert OSError in tasks.export_schedule_run_task.autoretry_for
    schedule.refresh_from_db()
    assert schedule.last_status == SnapshotStatus.FAILED
    assert "OSError: disk full" in schedule.last_error
    assert schedule.last_run_at is not None
    assert not Snapshot.objects.filter(version__isnull=False).exists()
    assert set(Snapshot.objects.values_list("status", flat=True)) == {SnapshotStatus.FAILED}
    assert _files(media_root) == []


def test_the_task_skips_a_disabled_or_deleted_schedule(project: Project) -> None:
    # given
    _labeled(project, 2)
    schedule = _create(project)
    export_schedule_update(schedule=schedule, enabled=False)

    # when
    tasks.export_schedule_run_task.apply(args=[schedule.pk])
    tasks.export_schedule_run_task.apply(args=[schedule.pk + 1000])

    # then
    assert not Snapshot.objects.exists()


def test_run_now_queues_the_task_on_commit(
    project: Project, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    schedule = _create(project)
    queued: list[int] = []
    monkeypatch.setattr(tasks.export_schedule_run_task, "delay", queued.append)

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        export_schedule_run_now(schedule=schedule)

    # then
    assert len(callbacks) == 1
    assert queued == [schedule.pk]
    schedule.refresh_from_db()
    assert schedule.last_status == SnapshotStatus.PENDING


def test_run_now_refuses_a_disabled_schedule(
    project: Project, django_capture_on_commit_callbacks: Any
) -> None:
    # given
    schedule = _create(project)
    export_schedule_update(schedule=schedule, enabled=False)

    # when
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ValidationError) as caught:
        export_schedule_run_now(schedule=schedule)

    # then
    assert caught.value.messages == [schedules.ERROR_DISABLED]
    assert callbacks == []
