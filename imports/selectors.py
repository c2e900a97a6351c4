"""Where a running import reports its progress (the cache key both its writer and its readers use)."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet

from core.exceptions import NotFoundError
from projects.choices import ImportStatus
from projects.models import ImportJob, Project


def import_progress_key(job_id: int) -> str:
    return f"oversight:import:{job_id}:progress"


def import_heartbeat_key(job_id: int) -> str:
    """Set by a running import's worker every few seconds; its absence means no worker runs the job."""
    return f"oversight:import:{job_id}:heartbeat"


def import_job_list(*, project: Project) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(project=project).select_related("created_by").order_by("-created_at")


def import_job_get(*, project: Project, job_id: int) -> ImportJob:
    job = ImportJob.objects.filter(project=project, pk=job_id).first()
    if job is None:
        raise NotFoundError("Import not found.")
    return job


def import_job_progress(*, job: ImportJob) -> dict[str, Any]:
    """Rows done and fraction of the source read: from the cache while running, from the row when done."""
    if job.status == ImportStatus.SUCCEEDED:
        return {"rows": job.rows_total, "fraction": 1.0, "percent": 100}
    if job.status == ImportStatus.FAILED:
        return {"rows": 0, "fraction": 0.0, "percent": 0}
    value = cache.get(import_progress_key(job.pk))
    rows, fraction = (value["rows"], value["fraction"]) if isinstance(value, dict) else (0, 0.0)
    return {"rows": rows, "fraction": fraction, "percent": int(fraction * 100)}


def import_job_evaluation_labels(*, job: ImportJob) -> int:
    """How many evaluation-only labels the job wrote (created or updated); 0 until it succeeded."""
    result = job.options.get("result") if isinstance(job.options, dict) else None
    count = result.get("evaluation_labels_imported", 0) if isinstance(result, dict) else 0
    return int(count)
