from __future__ import annotations

from celery import shared_task

from core.tasks import OversightTask
from labeling.importers.errors import ImportFileError


@shared_task(base=OversightTask, bind=True, acks_late=True, max_retries=3, default_retry_delay=10)
def import_job_run_task(self: OversightTask, job_id: int) -> None:
    from labeling.models import ImportJob
    from labeling.services.imports import import_job_run

    job = ImportJob.objects.filter(pk=job_id).select_related("project").first()
    if job is None:
        return
    try:
        import_job_run(job=job)
    except ImportFileError:
        return  # recorded on the job; a bad file is not worth retrying
