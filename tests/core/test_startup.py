"""What a process pays to start: Django set up, every app loaded, the URLconf (every view) read, and the
services an import and a retrain go through, without the heavy numeric stacks (torch, Snorkel,
sentence-transformers), which only the tasks that need them import: torch alone is about 200 MB, in every
web worker, and an import must peak under 500 MB at a million rows. An import process does not load
scikit-learn and pandas either: the admin, the apps' hook receivers and the import services reach the
services that need them only when they run."""

from __future__ import annotations

from tests.core.fresh_process import fresh_process_run

HEAVY = ("torch", "snorkel", "sentence_transformers")


def test_django_starts_without_torch_snorkel_or_sentence_transformers() -> None:
    # given a fresh interpreter
    script = (
        "import os, sys, django\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings.local')\n"
        "django.setup()\n"
        "from django.urls import resolve; resolve('/')\n"
        "import imports.services.jobs, labeling.services.annotations, active_learning.services.training\n"
        f"print(sorted(name for name in {HEAVY!r} if name in sys.modules))\n"
    )

    # when every app is loaded, the URLconf read, and the services an import and a retrain go through
    printed, errors = fresh_process_run(script)

    # then none of the heavy stacks was imported
    assert printed == "[]", errors


def test_an_import_process_loads_neither_scikit_learn_nor_pandas() -> None:
    # given a fresh interpreter
    script = (
        "import os, sys, django\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings.local')\n"
        "django.setup()\n"
        "import imports.services.pipeline, imports.services.jobs\n"
        "print(sorted(name for name in ('sklearn', 'pandas', 'torch', 'snorkel') if name in sys.modules))\n"
    )

    # when Django starts (every app, its admin and its receivers) and the import services are loaded
    printed, errors = fresh_process_run(script)

    # then scikit-learn and pandas (about 180 MB together) wait for the first job that needs them: an import
    # must peak under 500 MB at a million rows, and starts at about 140 MB instead of 280
    assert printed == "[]", errors
