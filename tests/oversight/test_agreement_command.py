"""`manage.py agreement SLUG [--json]`: the table, the JSON last line, and an unknown slug."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from projects.models import Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("agreement", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _rated_project() -> Project:
    """ana and bob: ham/ham, spam/spam, ham/spam."""
    project = ProjectFactory(name="SMS", slug="sms")
    ana, bob = UserFactory(username="ana"), UserFactory(username="bob")
    for first, second in [("ham", "ham"), ("spam", "spam"), ("ham", "spam")]:
        item = ItemFactory(project=project)
        AnnotationFactory(item=item, annotator=ana, labels=[first])
        AnnotationFactory(item=item, annotator=bob, labels=[second])
    return project


def test_json_prints_the_report_on_the_last_line() -> None:
    # given
    _rated_project()

    # when
    output = _run("sms", "--json")

    # then
    report = json.loads(output.strip().splitlines()[-1])
    assert (report["n_items"], report["n_annotators"]) == (3, 2)
    assert report["percent_agreement"] == 0.6667
    assert report["cohen_kappa_mean"] == 0.4
    assert report["fleiss_kappa"] == 0.3333
    assert report["krippendorff_alpha"] == 0.4444
    assert set(report["per_label"]) == {"ham", "spam"}
    assert [(pair["a"], pair["b"], pair["cohen_kappa"]) for pair in report["pairs"]] == [("ana", "bob", 0.4)]


def test_without_json_it_prints_tables() -> None:
    # given
    _rated_project()

    # when
    lines = _run("sms").splitlines()

    # then
    assert lines[0] == "SMS: 3 items rated at least twice, by 2 annotators."
    assert any(line.split() == ["overall", "3", "0.6667", "0.4000", "0.3333", "0.4444"] for line in lines)
    assert any(line.split()[:1] == ["spam"] for line in lines)
    assert any(line.split() == ["ana", "bob", "3", "0.6667", "0.4000"] for line in lines)


def test_an_empty_project_prints_dashes() -> None:
    # given
    ProjectFactory(slug="empty")

    # when
    report = json.loads(_run("empty", "--json").strip().splitlines()[-1])
    table = _run("empty")

    # then
    assert (report["n_items"], report["krippendorff_alpha"], report["pairs"]) == (0, None, [])
    assert any(line.split() == ["overall", "0", "-", "-", "-", "-"] for line in table.splitlines())


def test_an_unknown_slug_is_an_error() -> None:
    with pytest.raises(CommandError, match="No project with the slug 'nope'."):
        _run("nope", "--json")
