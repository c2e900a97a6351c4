"""Export schedules: a project's periodic snapshots, each with its django-celery-beat entry kept in step.

A schedule's beat entry (a `PeriodicTask` named `oversight:export:<id>`) calls
`datasets.tasks.export_schedule_run_task`, which runs `export_schedule_run` on a worker: it builds a snapshot
(skipped when the content did not change since the project's latest version), then applies the retention
policy. Every change to a schedule goes through the model's `save()`/`delete()` of its beat entry, so that the
DatabaseScheduler notices it.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from typing import Any, Final

from celery.schedules import ParseException
from celery.schedules import crontab as celery_crontab
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from core.jobs import enqueue_on_commit
from datasets import tasks
from datasets.choices import SnapshotStatus, Trigger
from datasets.models import ExportSchedule, Snapshot
from datasets.services.snapshots import (
    SnapshotRequest,
    snapshot_build,
    snapshot_create,
    snapshot_delete,
    snapshot_request_validate,
    snapshot_retention_apply,
)
from projects.models import Project

MAX_EVERY = 10_000
MAX_KEEP_LAST = 1000
MAX_NAME = 200
MAX_CRONTAB = 100
TASK_NAME_PREFIX = "oversight:export:"
EDITABLE_FIELDS = (
    "name", "policy", "min_confidence", "formats", "filters", "fewshot_k", "exclude_label_errors", "every",
    "period", "crontab", "keep_last", "enabled",
)  # fmt: skip
# Each crontab position: the celery.schedules.crontab keyword, the name in messages, the values it takes.
CRONTAB_FIELDS: Final = (
    ("minute", "minute", "0-59"),
    ("hour", "hour", "0-23"),
    ("day_of_month", "day of month", "1-31"),
    ("month_of_year", "month", "1-12"),
    ("day_of_week", "day of week", "0-6 with Sunday 0, or sun-sat"),
)
_CRONTAB_NUMERIC = re.compile(r"[0-9*/,\-]+")
_CRONTAB_WEEKDAY = re.compile(r"[0-9a-zA-Z*/,\-]+")

ERROR_NAME_BLANK = "Give the schedule a name."
ERROR_NAME_LONG = f"A schedule's name has at most {MAX_NAME} characters."
ERROR_NAME_TAKEN = "This project already has an export schedule named '{name}'."
ERROR_CADENCE_BOTH = "Give either an interval (every N hours or days) or a crontab, not both."
ERROR_CADENCE_NONE = "Give an interval (every N hours or days) or a crontab."
ERROR_EVERY = f"'every' must be a whole number from 1 to {MAX_EVERY}."
ERROR_PERIOD = "The period must be hours or days."
ERROR_CRONTAB_SHAPE = "A crontab has 5 fields, 'minute hour day month weekday' (UTC); this one has {count}."
ERROR_CRONTAB_LONG = f"A crontab has at most {MAX_CRONTAB} characters."
ERROR_CRONTAB_FIELD = "The crontab's {field} field '{value}' is not valid ({allowed}): {reason}"
ERROR_KEEP_LAST = f"keep_last must be a whole number from 1 to {MAX_KEEP_LAST}."
ERROR_DISABLED = "This schedule is disabled: enable it to run it."


class _Unset(enum.Enum):
    UNSET = enum.auto()


UNSET: Final = _Unset.UNSET


@dataclass(frozen=True)
class _Cadence:
    """Either `every` `period` (an interval) or `crontab` ('minute hour day month weekday', UTC)."""

    every: int | None
    period: str
    crontab: str


def export_schedule_create(
    *,
    project: Project,
    user: User | None,
    name: str,
    request: SnapshotRequest,
    every: int | None,
    period: str,
    crontab: str,
    keep_last: int,
) -> ExportSchedule:
    """Validates and saves a schedule together with its beat entry (an interval or a UTC crontab)."""
    checked = _request_validate(project=project, request=request)
    cadence = _cadence_validate(every=every, period=period, crontab=crontab)
    _keep_last_validate(keep_last)
    with transaction.atomic():
        name = _name_validate(project=project, name=name, exclude_pk=None)
        schedule = ExportSchedule.objects.create(
            project=project, name=name, created_by=user, keep_last=keep_last,
            policy=checked.policy, min_confidence=checked.min_confidence, formats=checked.formats,
            filters={"splits": checked.splits, "labels": checked.labels}, fewshot_k=checked.fewshot_k,
            exclude_label_errors=checked.exclude_label_errors, every=cadence.every, period=cadence.period,
            crontab=cadence.crontab,
        )  # fmt: skip
        _beat_sync(schedule)
    return schedule


def export_schedule_update(
    *,
    schedule: ExportSchedule,
    name: str | _Unset = UNSET,
    request: SnapshotRequest | _Unset = UNSET,
    every: int | _Unset | None = UNSET,
    period: str | _Unset = UNSET,
    crontab: str | _Unset = UNSET,
    keep_last: int | _Unset = UNSET,
    enabled: bool | _Unset = UNSET,
) -> ExportSchedule:
    """Changes what is given and keeps the beat entry in step. Giving `every` without `crontab` (or the other
    way round) switches the cadence; a smaller `keep_last` takes effect at the next run."""
    project = schedule.project
    checked = None if isinstance(request, _Unset) else _request_validate(project=project, request=request)
    cadence = _cadence_merge(schedule, every=every, period=period, crontab=crontab)
    if not isinstance(keep_last, _Unset):
        _keep_last_validate(keep_last)
    with transaction.atomic():
        if not isinstance(name, _Unset):
            schedule.name = _name_validate(project=project, name=name, exclude_pk=schedule.pk)
        if checked is not None:
            schedule.policy, schedule.min_confidence = checked.policy, checked.min_confidence
            schedule.formats = checked.formats
            schedule.filters = {"splits": checked.splits, "labels": checked.labels}
            schedule.fewshot_k = checked.fewshot_k
            schedule.exclude_label_errors = checked.exclude_label_errors
        schedule.every, schedule.period, schedule.crontab = cadence.every, cadence.period, cadence.crontab
        if not isinstance(keep_last, _Unset):
            schedule.keep_last = keep_last
        if not isinstance(enabled, _Unset):
            schedule.enabled = enabled
        # Only what a person edits: a worker may be writing the last run's status at the same moment.
        schedule.save(update_fields=[*EDITABLE_FIELDS, "updated_at"])
        _beat_sync(schedule)
    return schedule


def export_schedule_delete(*, schedule: ExportSchedule) -> None:
    """Deletes the schedule and its beat entry; the snapshots it made stay, without their schedule."""
    task_id, name = schedule.periodic_task_id, _task_name(schedule)
    with transaction.atomic():
        schedule.delete()
        # The model's delete() (not a queryset delete) tells the DatabaseScheduler that its entries changed.
        for task in PeriodicTask.objects.filter(Q(pk=task_id) | Q(name=name)):
            task.delete()


def export_schedule_run(*, schedule: ExportSchedule) -> Snapshot:
    """One run, on a worker (the beat entry's task): a snapshot built here, skipped if nothing changed, then
    the retention policy. Build errors other than "nothing to export" propagate, for the task to retry."""
    snapshot = snapshot_create(
        project=schedule.project, user=schedule.created_by, request=_request_of(schedule),
        trigger=Trigger.SCHEDULE, schedule=schedule, enqueue=False,
    )  # fmt: skip
    snapshot = snapshot_build(snapshot_id=snapshot.pk)
    if snapshot.status == SnapshotStatus.SUCCEEDED:
        snapshot_retention_apply(schedule=schedule)
    _run_records_prune(schedule)
    return snapshot


def export_schedule_run_now(*, schedule: ExportSchedule) -> None:
    """Queues one run of the schedule on a worker (the "Run now" button); its status is pending meanwhile."""
    if not schedule.enabled:
        raise ValidationError(ERROR_DISABLED, code="disabled")
    schedule_id = schedule.pk
    with transaction.atomic():
        ExportSchedule.objects.filter(pk=schedule_id).update(last_status=SnapshotStatus.PENDING)
        enqueue_on_commit(tasks.export_schedule_run_task, schedule_id)
    schedule.last_status = SnapshotStatus.PENDING


# --- validation ---------------------------------------------------------------------------------------------


def _request_validate(*, project: Project, request: SnapshotRequest) -> SnapshotRequest:
    return snapshot_request_validate(project=project, request=request)


def _request_of(schedule: ExportSchedule) -> SnapshotRequest:
    return SnapshotRequest(
        policy=schedule.policy, min_confidence=schedule.min_confidence, formats=list(schedule.formats),
        splits=list(schedule.filters.get("splits", [])), labels=list(schedule.filters.get("labels", [])),
        fewshot_k=list(schedule.fewshot_k), exclude_label_errors=schedule.exclude_label_errors,
    )  # fmt: skip


def _name_validate(*, project: Project, name: str, exclude_pk: int | None) -> str:
    name = name.strip()
    if not name:
        raise ValidationError(ERROR_NAME_BLANK, code="name")
    if len(name) > MAX_NAME:
        raise ValidationError(ERROR_NAME_LONG, code="name")
    taken = ExportSchedule.objects.filter(project=project, name=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError(ERROR_NAME_TAKEN.format(name=name), code="name_taken")
    return name


def _keep_last_validate(keep_last: int) -> None:
    if isinstance(keep_last, bool) or not isinstance(keep_last, int) or not 1 <= keep_last <= MAX_KEEP_LAST:
        raise ValidationError(ERROR_KEEP_LAST, code="keep_last")


def _cadence_merge(
    schedule: ExportSchedule, *, every: int | _Unset | None, period: str | _Unset, crontab: str | _Unset
) -> _Cadence:
    """The schedule's cadence after an update: given values replace stored ones, and giving one kind of
    cadence alone switches to it."""
    new_every = schedule.every if isinstance(every, _Unset) else every
    new_crontab = schedule.crontab if isinstance(crontab, _Unset) else crontab
    if isinstance(crontab, _Unset) and not isinstance(every, _Unset) and every is not None:
        new_crontab = ""
    if isinstance(every, _Unset) and not isinstance(crontab, _Unset) and crontab.strip():
        new_every = None
    new_period = (schedule.period or ExportSchedule.Every.DAYS) if isinstance(period, _Unset) else period
    return _cadence_validate(every=new_every, period=new_period, crontab=new_crontab)


def _cadence_validate(*, every: int | None, period: str, crontab: str) -> _Cadence:
    crontab = " ".join(crontab.split())
    if every is not None and crontab:
        raise ValidationError(ERROR_CADENCE_BOTH, code="cadence")
    if every is None and not crontab:
        raise ValidationError(ERROR_CADENCE_NONE, code="cadence")
    if every is None:
        _crontab_fields(crontab)
        return _Cadence(every=None, period="", crontab=crontab)
    if isinstance(every, bool) or not isinstance(every, int) or not 1 <= every <= MAX_EVERY:
        raise ValidationError(ERROR_EVERY, code="every")
    if period not in ExportSchedule.Every.values:
        raise ValidationError(ERROR_PERIOD, code="period")
    return _Cadence(every=every, period=period, crontab="")


def _crontab_fields(crontab: str) -> dict[str, str]:
    """The five fields by celery's names, each checked by celery's own parser for its position."""
    if len(crontab) > MAX_CRONTAB:
        raise ValidationError(ERROR_CRONTAB_LONG, code="crontab")
    parts = crontab.split()
    if len(parts) != len(CRONTAB_FIELDS):
        raise ValidationError(ERROR_CRONTAB_SHAPE.format(count=len(parts)), code="crontab")
    fields = {}
    for (key, label, allowed), value in zip(CRONTAB_FIELDS, parts, strict=True):
        characters = _CRONTAB_WEEKDAY if key == "day_of_week" else _CRONTAB_NUMERIC
        try:
            if not characters.fullmatch(value):
                raise ValueError("only digits, '*', ',', '-' and '/' are allowed.")
            celery_crontab(**{key: value})
        except (ValueError, ParseException) as exc:
            message = ERROR_CRONTAB_FIELD.format(field=label, value=value, allowed=allowed, reason=exc)
            raise ValidationError(message, code="crontab") from exc
        fields[key] = value
    return fields


# --- beat entry and records ---------------------------------------------------------------------------------


def _task_name(schedule: ExportSchedule) -> str:
    return f"{TASK_NAME_PREFIX}{schedule.pk}"


def _beat_cadence(schedule: ExportSchedule) -> dict[str, Any]:
    """The beat entry's interval or crontab (shared rows: found or made, never changed)."""
    if schedule.every is not None:
        spec: dict[str, Any] = {"every": schedule.every, "period": schedule.period}
        interval = IntervalSchedule.objects.filter(**spec).first() or IntervalSchedule.objects.create(**spec)
        return {"interval": interval, "crontab": None}
    spec = {**_crontab_fields(schedule.crontab), "timezone": "UTC"}
    crontab = CrontabSchedule.objects.filter(**spec).first() or CrontabSchedule.objects.create(**spec)
    return {"interval": None, "crontab": crontab}


def _beat_sync(schedule: ExportSchedule) -> None:
    """Creates or updates the schedule's beat entry to match it."""
    name = _task_name(schedule)
    task = schedule.periodic_task or PeriodicTask.objects.filter(name=name).first() or PeriodicTask(name=name)
    task.task = tasks.export_schedule_run_task.name
    task.args = json.dumps([schedule.pk])
    task.enabled = schedule.enabled
    task.description = f"Export schedule '{schedule.name}' of project {schedule.project.slug}"
    for field, value in _beat_cadence(schedule).items():
        setattr(task, field, value)
    task.save()  # the model's save() marks the beat entries as changed
    if schedule.periodic_task_id != task.pk:
        schedule.periodic_task = task
        schedule.save(update_fields=["periodic_task", "updated_at"])


def _run_records_prune(schedule: ExportSchedule) -> None:
    """Skipped and failed runs leave records without files; like versions, the newest `keep_last` stay."""
    old = Snapshot.objects.filter(
        schedule=schedule, status__in=[SnapshotStatus.SKIPPED, SnapshotStatus.FAILED]
    ).order_by("-created_at", "-pk")[schedule.keep_last :]
    for snapshot in old:
        snapshot_delete(snapshot=snapshot)
