"""What a process that serves requests does once it has loaded Django (config/wsgi.py and config/asgi.py),
before its first request."""

from __future__ import annotations

import gc

from django.core.cache import caches
from django.urls import get_resolver

from core.jobs import background_jobs_enable


def serving_start() -> None:
    """Declares that this process serves requests (in embedded mode tasks then run after the response:
    core.jobs), and reads the URLconf and makes the cache's client now. Reading the URLconf imports every
    view, DRF, drf-spectacular and their serializers, and the Redis cache's client imports redis-py: about
    0.5 s of CPU together, which otherwise fell on the process's first requests, and with the
    `gthread` workers on every request that arrived at that worker meanwhile (a p95 of 0.5-1 s for the first
    seconds of 50 analysts on workers that had served nobody yet). A gunicorn worker runs this while it
    starts, before it accepts a connection.

    Under `gunicorn --preload` (`make serve`) the master runs this once and forks the workers, which then
    share its pages: it opens no database connection, no socket and no thread for them to share (a test
    holds it), and it freezes what it loaded (gc.freeze) so that a worker's garbage collector never writes
    to those objects' headers and copies their pages. Measured with three workers: 640 MB of PSS in all
    without --preload, 330 MB with it (a worker's own memory 179 MB, 22 MB)."""
    background_jobs_enable()
    get_resolver().url_patterns  # noqa: B018 - the attribute's first read imports the URLconf
    getattr(caches["default"], "_cache", None)  # the Redis backend makes its client here (no connection yet)
    gc.freeze()
