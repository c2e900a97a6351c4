"""The project's base Celery task: logging, timing and time limits in one place (STYLE.md §6)."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import Task

logger = logging.getLogger("oversight.tasks")


class OversightTask(Task):  # type: ignore[type-arg]
    """Base for every task: logs start, end and duration; retry policy stays on each task's decorator."""

    soft_time_limit = 55 * 60
    time_limit = 60 * 60

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        logger.info("task %s started args=%s", self.name, args)
        try:
            return super().__call__(*args, **kwargs)
        finally:
            logger.info("task %s finished in %.3fs", self.name, time.monotonic() - started)


def worker_ping() -> str:
    """A trivial task body used by /healthz and the integration tests to prove a worker answers."""
    return "pong"
