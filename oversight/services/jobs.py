"""What truth-inference runs and label-error scans share as jobs: one under way per project (a second start
joins it), and an attempt that claims the job, runs it from nothing and records how it ended."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.jobs import join_since
from oversight.choices import JobStatus
from oversight.models import InferenceRun, LabelErrorScan
from projects.models import Project

J = TypeVar("J", InferenceRun, LabelErrorScan)


def job_under_way(model: type[J], project: Project) -> J | None:
    """The project's job of this kind pending or running since `join_since()`, if any."""
    return (
        model.objects.filter(
            project=project, status__in=[JobStatus.PENDING, JobStatus.RUNNING], created_at__gte=join_since()
        )
        .order_by("-number")
        .first()
    )


def job_execute(model: type[J], pk: int, execute: Callable[[J], J]) -> J:
    """Claims the job (a finished one is left as it is), runs `execute` on it and answers with the job. A
    ValidationError is a clear answer, not a crash: the job fails with its message. Anything else fails the job
    with the error's name and is raised again (the worker retries a redelivered message from nothing)."""
    with transaction.atomic():
        job = model.objects.select_for_update().select_related("project").get(pk=pk)
        if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
            return job
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.started_at = timezone.now()
        job.save(update_fields=["status", "attempts", "started_at", "updated_at"])
    try:
        return execute(job)
    except ValidationError as error:
        model.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED, error=" ".join(error.messages), finished_at=timezone.now()
        )
        job.refresh_from_db()
        return job
    except Exception as error:
        model.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED, error=f"{type(error).__name__}: {error}", finished_at=timezone.now()
        )
        raise
