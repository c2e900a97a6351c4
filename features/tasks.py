"""Celery door onto the feature cache: one planned block, which any worker can build (idempotent)."""

from __future__ import annotations

from celery import shared_task

from core.tasks import OversightTask


@shared_task(base=OversightTask, acks_late=True, reject_on_worker_lost=True, max_retries=3,
             default_retry_delay=5)  # fmt: skip
def feature_block_task(project_id: int, kind: str, first_id: int, last_id: int) -> None:
    """Builds one planned range of a stored feature kind (a block already built is kept)."""
    from features.services.cache import feature_block_build
    from projects.models import Project

    project = Project.objects.filter(pk=project_id).first()
    if project is not None:
        feature_block_build(project=project, kind=kind, first_id=first_id, last_id=last_id)
