"""Celery doors onto the snapshot services: build one snapshot; run one export schedule."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from core.tasks import OversightTask


# Storage and database hiccups are retried (the build starts again from nothing); a snapshot with nothing to
# export fails at once with its message.
@shared_task(base=OversightTask, acks_late=True, reject_on_worker_lost=True,
             autoretry_for=(OSError, DatabaseError), max_retries=3, retry_backoff=10)  # fmt: skip
def snapshot_build_task(snapshot_id: int) -> None:
    from datasets.models import Snapshot
    from datasets.services.snapshots import snapshot_build

    if not Snapshot.objects.filter(pk=snapshot_id).exists():
        return
    snapshot_build(snapshot_id=snapshot_id)


@shared_task(base=OversightTask, acks_late=True, autoretry_for=(OSError, DatabaseError), max_retries=3,
             retry_backoff=30)  # fmt: skip
def export_schedule_run_task(schedule_id: int) -> None:
    """What a schedule's beat entry calls: a snapshot unless nothing changed, then the retention policy."""
    from datasets.models import ExportSchedule
    from datasets.services.schedules import export_schedule_run

    schedule = ExportSchedule.objects.filter(pk=schedule_id, enabled=True).first()
    if schedule is None:
        return
    export_schedule_run(schedule=schedule)
