"""Celery doors onto the projects app's services."""

from __future__ import annotations

from celery import shared_task

from core.tasks import OversightTask

# Seconds before trying again where a writer of the project's items held its row.
SEARCH_RETRY_SECONDS = 30


@shared_task(base=OversightTask, bind=True, max_retries=20)
def item_search_refresh_task(self: OversightTask, project_id: int) -> None:
    """Writes the search rows of a project's newest items (after an import commits). Idempotent."""
    from projects.services.search import item_search_refresh

    if item_search_refresh(project_id=project_id) is None and not self.request.is_eager:
        raise self.retry(countdown=SEARCH_RETRY_SECONDS)


@shared_task(base=OversightTask)
def item_search_sweep_task() -> None:
    """Periodic (CELERY_BEAT_SCHEDULE): a refresh for each project with items above its search mark."""
    from projects.services.search import item_search_behind

    for project_id in item_search_behind():
        item_search_refresh_task.delay(project_id)
