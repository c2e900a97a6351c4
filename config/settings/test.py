"""Test overrides: fast hashing, in-process Celery that propagates errors (run inline), locmem cache.

The integration run (tests/plugins/real_services.py) sets DATABASE_URL and REDIS_URL to throwaway
PostgreSQL and Redis servers before this module loads; then the broker is real and tasks go to a worker.
"""

import os
import tempfile

os.environ.setdefault("OVERSIGHT_DEBUG", "1")
if "OVERSIGHT_VAR_DIR" not in os.environ:
    os.environ["OVERSIGHT_VAR_DIR"] = tempfile.mkdtemp(prefix="oversight-test-")

from config.settings.base import *  # noqa: F403
from config.settings.base import EMBEDDED_MODE

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if EMBEDDED_MODE:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
# Tasks run at the commit, in the test's thread, even in a test that serves requests (core.jobs): the tests
# stay deterministic. tests/core/test_jobs.py turns it off to check the background thread.
OVERSIGHT_TASKS_INLINE = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
IMPORT_BATCH_SIZE = 100

# WhiteNoise looks for STATIC_ROOT at start-up; tests serve static files through the finders.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
