"""The CLI: seed_demo, as a user runs it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from demo.services.seed import DEMO_GOLD_CHECKS, DEMO_LABELED_ITEMS, DEMO_SLUG
from labeling.models import Annotation, GoldLabel
from projects.models import Project

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_seed_demo_is_idempotent() -> None:
    first = _run("seed_demo", "--items", "200")
    second = _run("seed_demo", "--items", "200")
    project = Project.objects.get(slug=DEMO_SLUG)
    assert project.items.count() == 200
    assert project.labels.count() == 5
    assert "password: oversight-demo" in first
    assert "already exists" in second
    # the team's history is seeded once: two analysts per labeled item, every analyst on every gold check
    labeled = min(DEMO_LABELED_ITEMS, 200 - DEMO_GOLD_CHECKS)
    assert Annotation.objects.filter(project=project).count() == 2 * labeled + 3 * DEMO_GOLD_CHECKS
    assert GoldLabel.objects.filter(project=project, is_check=True).count() == DEMO_GOLD_CHECKS
    assert set(project.memberships.values_list("user__username", flat=True)) >= {"ana", "ben", "cleo", "rita"}
