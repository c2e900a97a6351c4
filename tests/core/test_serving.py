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
