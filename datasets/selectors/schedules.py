"""Reads of export schedules, each with its newest snapshots."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from core.exceptions import NotFoundError
from datasets.models import ExportSchedule, Snapshot
from projects.models import Project

ERROR_SCHEDULE_NOT_FOUND = "Export schedule not found in this project."
RECENT_SNAPSHOTS = 5  # per schedule, on its page and in the API


def export_schedule_list(*, project: Project) -> QuerySet[ExportSchedule]:
    """The project's schedules, each with its newest snapshots (`recent_snapshots`), in two queries."""
    recent = Snapshot.objects.order_by("-created_at", "-id")[:RECENT_SNAPSHOTS]
    return (
        ExportSchedule.objects.filter(project=project)
        .select_related("periodic_task", "created_by")
        .prefetch_related(Prefetch("snapshots", queryset=recent, to_attr="recent_snapshots"))
    )


def export_schedule_get(*, project: Project, schedule_id: int) -> ExportSchedule:
    schedule = export_schedule_list(project=project).filter(pk=schedule_id).first()
    if schedule is None:
        raise NotFoundError(ERROR_SCHEDULE_NOT_FOUND)
    return schedule
