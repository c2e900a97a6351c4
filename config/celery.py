"""The Celery app. Configuration comes from Django settings (CELERY_* names)."""

import importlib
import os

from celery import Celery
from celery.signals import worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("oversight")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Work that takes seconds once per process (importing torch under Snorkel, torch's first fit). A worker
# process does it when it starts, so that the first task it runs does not pay for it.
WARM_UP = (
    ("weak_supervision.services.runs", None),
    ("weak_supervision.services.label_model", "label_model_warm_up"),
)


@worker_init.connect
def priority_lower(**_: object) -> None:
    """The worker and the processes it forks run below the web server's priority (OVERSIGHT_WORKER_NICE)."""
    from core.jobs import background_priority_lower

    background_priority_lower()


@worker_process_init.connect
def warm_up(**_: object) -> None:
    for module_name, function_name in WARM_UP:
        module = importlib.import_module(module_name)
        if function_name:
            getattr(module, function_name)()
