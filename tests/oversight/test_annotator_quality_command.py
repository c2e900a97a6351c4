"""The annotator_quality command: a table, one JSON line, or CSV, for everyone in the project."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from labeling.models import GoldLabel
from oversight.choices import SourceKind
from oversight.selectors.quality import ANNOTATOR_QUALITY_COLUMNS
from projects.choices import Role
from projects.models import Membership, Project
from tests.labeling.factories import AnnotationFactory
from tests.oversight.factories import InferenceRunFactory, source_entry
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = pytest.mark.django_db

MemberFactory = Callable[..., Membership]


def _run(*args: str) -> str:
    out = StringIO()
    call_command("annotator_quality", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def sms(member_factory: MemberFactory) -> Project:
    """ana answers two gold checks rightly, bob one of two; both answered each item."""
    project = ProjectFactory(slug="sms", gold_min_checks=2)
    ana = member_factory(project, Role.ANALYST, username="ana").user
    bob = member_factory(project, Role.ANALYST, username="bob").user
    for bobs_answer in (["spam"], ["ham"]):
        item = ItemFactory(project=project)
        GoldLabel.objects.create(project=project, item=item, labels=["spam"], is_check=True)
        AnnotationFactory(item=item, annotator=ana, labels=["spam"], lead_time_ms=4000)
        AnnotationFactory(item=item, annotator=bob, labels=bobs_answer, lead_time_ms=4000)
    return project


def test_the_table_has_a_line_per_annotator_and_flags_who_is_below(sms: Project) -> None:
    # when
    lines = _run("sms").splitlines()

    # then
    assert lines[0].split()[:4] == ["username", "role", "submitted", "items/h"]
    assert [line.split()[0] for line in lines[1:]] == ["ana", "bob"]
    assert "2/2" in lines[1]
    assert "1/2" in lines[2]
    assert lines[2].endswith("BELOW")
    assert not lines[1].endswith("BELOW")


def test_json_prints_every_row_as_the_last_line(sms: Project) -> None:
    # when
    rows = json.loads(_run("sms", "--json").strip().splitlines()[-1])

    # then
    assert [(row["username"], row["checks_correct"], row["below_threshold"]) for row in rows] == [
        ("ana", 2, False),
        ("bob", 1, True),
    ]
    assert list(rows[0]) == ANNOTATOR_QUALITY_COLUMNS


def test_csv_writes_a_header_and_a_line_per_annotator(sms: Project) -> None:
    # when
    rows = list(csv.DictReader(StringIO(_run("sms", "--csv"))))

    # then
    assert list(rows[0]) == ANNOTATOR_QUALITY_COLUMNS
    assert [(row["username"], row["check_accuracy"], row["consensus_agreement"]) for row in rows] == [
        ("ana", "1.0", "0.5"),
        ("bob", "0.5", "0.5"),
    ]


def test_json_and_csv_exclude_each_other(sms: Project) -> None:
    with pytest.raises(CommandError, match="not allowed with argument"):
        _run("sms", "--json", "--csv")


def test_an_unknown_project_is_an_error() -> None:
    with pytest.raises(CommandError, match="No project with the slug 'nope'."):
        _run("nope")


def test_the_table_shows_truth_inferences_estimate_with_its_interval(sms: Project) -> None:
    # given the latest inference run estimated ana
    ana = Membership.objects.get(project=sms, user__username="ana").user
    InferenceRunFactory(
        project=sms,
        sources=[source_entry(SourceKind.ANNOTATOR, "ana", 0.9, user_id=ana.pk, interval=[0.8, 0.95])],
    )

    # when
    lines = _run("sms").splitlines()

    # then
    assert "estimated" in lines[0].split()
    assert "0.90 (0.80-0.95)" in lines[1]
