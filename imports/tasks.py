from __future__ import annotations

from celery import shared_task

from core.tasks import OversightTask
from imports.parsing.errors import ImportFileError

# Seconds before a crashed import's next attempt, times the attempts so far (a database restart, a deploy).
IMPORT_RETRY_DELAY_SECONDS = 10
# The tasks keep the names they had when imports lived in the labeling app: messages already queued, and the
# beat entry (CELERY_BEAT_SCHEDULE), still find them after an upgrade.
TASK_PREFIX = "labeling.tasks."


@shared_task(
    name=TASK_PREFIX + "import_job_run_task", base=OversightTask, bind=True, acks_late=True, max_retries=None
)
def import_job_run_task(self: OversightTask, job_id: int) -> None:
    """Runs an import; a crashed attempt is retried until the job's attempts are spent (the service counts
    them and fails the job then), so the retry count here has no limit of its own."""
    from imports.services.jobs import import_job_run
    from projects.choices import ImportStatus
    from projects.models import ImportJob

    job = ImportJob.objects.filter(pk=job_id).select_related("project").first()
    if job is None:
        return
    while True:
        try:
            import_job_run(job=job)
        except ImportFileError:
            return  # recorded on the job; a bad file is not worth retrying
        except Exception as exc:
            job.refresh_from_db()
            if job.status != ImportStatus.PENDING:
                return  # failed, with the reason on the job (its attempts are spent)
            if not self.request.is_eager:
                raise self.retry(exc=exc, countdown=IMPORT_RETRY_DELAY_SECONDS * job.attempts) from exc
            continue  # in-process (embedded mode): no queue to wait in, the next attempt starts now
        return


@shared_task(name=TASK_PREFIX + "import_jobs_recover_task", base=OversightTask)
def import_jobs_recover_task() -> None:
    """Periodic (CELERY_BEAT_SCHEDULE): runs again, or fails, imports whose worker died or was stopped."""
    from imports.services.jobs import import_jobs_recover

    import_jobs_recover()
