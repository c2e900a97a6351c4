from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory
from tests.weak_supervision.factories import PLACES, keyword_lf, span_lf, span_project

pytestmark = pytest.mark.django_db(transaction=True)  # the run is handed to Celery on commit


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_run_labeling_functions_prints_metrics_per_split_as_json() -> None:
    # given a project without splits: it reports under "all"
    project = ProjectFactory(slug="tickets")
    for index in range(12):
        spam = index % 3 == 0
        AnnotationFactory(item=ItemFactory(project=project, text="free prize" if spam else "home soon"),
                          labels=["spam" if spam else "ham"])  # fmt: skip
    keyword_lf(project, "free", "spam", "free")
    keyword_lf(project, "prize", "spam", "prize")
    keyword_lf(project, "home", "ham", "home")
    out = StringIO()

    # when
    call_command("run_labeling_functions", "tickets", "--json", stdout=out)

    # then
    lines = out.getvalue().strip().splitlines()
    assert lines[0].startswith("Run 1: 12 items, 3 labeling functions")
    summary = json.loads(lines[-1])
    assert (summary["project"], summary["run"], summary["coverage"]) == ("tickets", 1, 1.0)
    everything = summary["splits"]["all"]
    assert (everything["n_gold"], everything["coverage"]) == (12, 1.0)
    assert everything["label_model"] == {"accuracy": 1.0, "macro_f1": 1.0, "f1": {"ham": 1.0, "spam": 1.0}}
    assert set(everything["majority_vote"]) == {"accuracy", "macro_f1", "f1"}


@pytest.mark.parametrize(
    ("args", "message"),
    [(["nope"], "No project with the slug 'nope'."), (["few"], "at least 3 active labeling function")],
)
def test_run_labeling_functions_explains_what_is_wrong(args: list[str], message: str) -> None:
    ProjectFactory(slug="few")
    with pytest.raises(CommandError, match=message):
        call_command("run_labeling_functions", *args)


def test_run_labeling_functions_json_names_the_aggregator_and_the_warnings() -> None:
    # given LFs that only vote spam, on 60 items without gold, and 20 gold items (ham) that no LF covers
    project = ProjectFactory(slug="lopsided")
    for index in range(60):
        ItemFactory(project=project, text=f"free prize home {index}")
    for index in range(20):
        AnnotationFactory(item=ItemFactory(project=project, text=f"hello there {index}"), labels=["ham"])
    keyword_lf(project, "free", "spam", "free")
    keyword_lf(project, "prize", "spam", "prize")
    keyword_lf(project, "home", "spam", "home")
    out = StringIO()

    # when
    call_command("run_labeling_functions", "lopsided", "--json", stdout=out)

    # then
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert (
        summary["aggregator"]["name"] in summary["aggregator"]["scores"]
        or summary["aggregator"]["scores"] == {}
    )
    assert summary["aggregator"]["selected_on"] in {"valid", "cross_validation", "default"}
    codes = {warning["code"] for warning in summary["warnings"]}
    assert {"labels_without_lfs", "distribution_shift"} <= codes
    assert all(set(warning) == {"code", "message"} for warning in summary["warnings"])
    assert "ham" in next(w["message"] for w in summary["warnings"] if w["code"] == "labels_without_lfs")
    assert "warning [labels_without_lfs]" in out.getvalue()


def test_run_labeling_functions_reports_span_f1_per_split_and_type() -> None:
    # given
    project = span_project("ner-command")
    span_lf(project, "places", "keyword", "loc", {"keywords": PLACES})
    out = StringIO()

    # when
    call_command("run_labeling_functions", project.slug, "--json", stdout=out)

    # then
    lines = out.getvalue().strip().splitlines()
    summary = json.loads(lines[-1])
    test = summary["splits"]["test"]["weak_label"]
    assert (test["precision"], test["recall"], test["f1"]) == (1.0, 0.5, 0.6667)
    assert test["per_type"]["loc"]["f1"] == 1.0
    assert test["per_type"]["per"]["recall"] == 0.0
    assert any(
        "test: 6 items, 6 with gold" in line and "span P/R/F1 1.000/0.500/0.667" in line for line in lines
    )
