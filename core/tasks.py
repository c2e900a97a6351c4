"""The project's base Celery task: logging, timing and time limits in one place (STYLE.md §6)."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import Task
from django.db import close_old_connections

logger = logging.getLogger("oversight.tasks")


class OversightTask(Task[..., Any]):
    """Base for every task: logs start, end and duration; retry policy stays on each task's decorator."""

    soft_time_limit = 55 * 60
    time_limit = 60 * 60

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        logger.info("task %s started args=%s", self.name, args)
        # A worker keeps its database connections across tasks (settings.CELERY_DB_REUSE_MAX); like Django
        # around a request, drop those that broke or outlived CONN_MAX_AGE. Not for a task run eagerly, inside
        # its caller's transaction.
        eager = bool(getattr(self.request, "is_eager", False))
        if not eager:
            close_old_connections()
        try:
            return super().__call__(*args, **kwargs)
        finally:
            if not eager:
                close_old_connections()
            logger.info("task %s finished in %.3fs", self.name, time.monotonic() - started)


def worker_ping() -> str:
    """A trivial task body used by /healthz and the integration tests to prove a worker answers."""
    return "pong"
