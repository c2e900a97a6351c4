"""Fixtures of the weak-supervision service tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from projects.models import Project
from weak_supervision.models import LabelModelRun
from weak_supervision.services.runs import run_start


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def start_run(django_capture_on_commit_callbacks: Any) -> Any:
    """run_start, with the work it hands to Celery on commit carried out (eagerly) before it returns: the
    chunks, the finish step and the end model."""

    def start(project: Project, **options: Any) -> LabelModelRun:
        with django_capture_on_commit_callbacks(execute=True):
            run = run_start(project=project, user=None, **options)
        run.refresh_from_db()
        return run

    return start
