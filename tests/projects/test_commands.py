"""The CLI: create_project, as a user runs it."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from projects.models import Project

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_create_project_prints_a_json_summary_last() -> None:
    output = _run("create_project", "spam", "--labels", "ham,spam", "--overlap", "2", "--json")
    summary = json.loads(output.strip().splitlines()[-1])
    project = Project.objects.get(slug="spam")
    assert summary == {
        "project_id": project.pk,
        "slug": "spam",
        "labels": ["ham", "spam"],
        "kind": "single",
        "multi_label": False,
        "overlap": 2,
    }


def test_create_project_reports_bad_input() -> None:
    with pytest.raises(CommandError, match="A project needs at least two labels"):
        _run("create_project", "spam", "--labels", "ham")
