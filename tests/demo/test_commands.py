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


def test_seed_demo_makes_a_span_project_with_gold_spans_and_span_lfs_once() -> None:
    # given / when
    from demo.services.seed import SPAN_DEMO_SLUG
    from weak_supervision.models import LabelingFunction

    output = _run("seed_demo", "--items", "50")
    _run("seed_demo", "--items", "50")

    # then
    project = Project.objects.get(slug=SPAN_DEMO_SLUG)
    assert project.is_spans
    assert f"Span demo project '{SPAN_DEMO_SLUG}'" in output
    assert list(project.labels.values_list("key", flat=True)) == ["person", "city", "product"]
    assert project.items.count() == 400
    golds = GoldLabel.objects.filter(project=project)
    assert golds.count() == 40
    for gold in golds.select_related("item"):
        assert all(gold.item.text[s["start"] : s["end"]] == s["text"] for s in gold.spans)
    assert LabelingFunction.objects.filter(project=project).count() == 3
