"""core.serving: a process that serves requests imports every view while it starts, not on its first request."""

from __future__ import annotations

from tests.core.fresh_process import fresh_process_run


def test_loading_the_wsgi_application_imports_the_urlconf_and_enables_background_jobs() -> None:
    # given a fresh interpreter, in which nothing has read the URLconf
    script = (
        "import os, sys\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings.local')\n"
        "import config.wsgi\n"
        "from core import jobs\n"
        "print('config.urls' in sys.modules, 'labeling.api.views' in sys.modules, jobs._background.enabled)\n"
    )

    # when it loads the WSGI application, as a gunicorn worker does before it accepts a connection
    printed, errors = fresh_process_run(script)

    # then every view is imported already, and tasks run after the response
    assert printed == "True True True", errors


def test_the_loaded_application_holds_nothing_a_forked_worker_would_share() -> None:
    # given a fresh interpreter in production mode's shape (a Redis cache; no server answers on that port, so
    # a connection made while loading would show as an error or a socket)
    script = (
        "import gc, os, sys, threading\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings.local')\n"
        "os.environ['REDIS_URL'] = 'redis://127.0.0.1:1/0'\n"
        "import psutil\n"
        "import config.wsgi\n"
        "from django.db import connections\n"
        "opened = [c.alias for c in connections.all(initialized_only=True) if c.connection is not None]\n"
        "sockets = psutil.Process().net_connections(kind='all')\n"
        "print(opened, len(sockets), threading.active_count(), gc.get_freeze_count() > 0)\n"
    )

    # when it loads the WSGI application, as gunicorn's master does under --preload before it forks
    printed, errors = fresh_process_run(script)

    # then no database connection, socket or thread exists for the workers to share, and what it loaded is
    # frozen out of the garbage collector's reach (its pages stay shared)
    assert printed == "[] 0 1 True", errors
