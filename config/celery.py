"""The Celery app. Configuration comes from Django settings (CELERY_* names)."""

import importlib
import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("oversight")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Modules whose import takes seconds (torch, under Snorkel). A worker process loads them when it starts,
# so that the first task it runs does not pay for them.
PRELOADED_MODULES = ("weak_supervision.services.runs",)


@worker_process_init.connect
def preload_modules(**_: object) -> None:
    for name in PRELOADED_MODULES:
        importlib.import_module(name)
