"""Celery doors onto the snapshot services: build one snapshot; run one export schedule."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import DatabaseError

from core.tasks import OversightTask

logger = logging.getLogger("oversight.datasets")


# Storage and database hiccups are retried on a worker (the build starts again from nothing); a snapshot with
# nothing to export fails at once with its message. In the embedded mode (tasks run in-process) a failure
# is not raised into the page: the snapshot shows it as failed, and the user can try again.
@shared_task(base=OversightTask, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=3)
def snapshot_build_task(self: OversightTask, snapshot_id: int) -> None:
    from datasets.models import Snapshot
    from datasets.services.snapshots import snapshot_build

    if not Snapshot.objects.filter(pk=snapshot_id).exists():
        return
    try:
        snapshot_build(snapshot_id=snapshot_id)
    except (OSError, DatabaseError) as exc:
        if self.request.is_eager:
            logger.exception("snapshot %s failed (embedded mode: not retried)", snapshot_id)
            return
        raise self.retry(exc=exc, countdown=10 * 2**self.request.retries) from exc


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
