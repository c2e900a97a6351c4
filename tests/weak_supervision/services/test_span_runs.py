"""Runs of span projects: span LFs (gazetteer, regex, Python, external) applied in chunks, aggregated into
weak spans chosen on valid gold, scored per split and type, stored for the item browser and the command."""

from __future__ import annotations

from typing import Any

import pytest

from tests.weak_supervision.factories import span_lf, span_of, span_project
from weak_supervision.choices import EndModelStatus, RunStatus
from weak_supervision.models import ExternalSpanVote, ItemLfVote, ItemWeakLabel, LabelingFunction
from weak_supervision.selectors import item_lf_votes_get

pytestmark = pytest.mark.django_db


def test_a_span_run_stores_weak_spans_scores_and_per_lf_figures(start_run: Any) -> None:
    # given: a gazetteer of places, a regex for "<First> <Last> flew" (group 1), and an external LF
    project = span_project()
    span_lf(project, "places", "keyword", "loc", {"keywords": ["Oslo", "Paris"]})
    span_lf(
        project, "flyers", "regex", "per", {"pattern": r"^([A-Z]\w+ [A-Z]\w+) flew", "case_sensitive": True}
    )
    external = LabelingFunction.objects.create(project=project, name="ext", kind="external")
    rome = [item for item in project.items.order_by("id") if "Rome" in item.text]
    for item in rome:
        ExternalSpanVote.objects.create(
            labeling_function=external, item=item, spans=[span_of(item.text, "Rome", "loc")]
        )

    # when
    run = start_run(project, chunk_size=10)

    # then
    assert run.status == RunStatus.SUCCEEDED, run.error
    metrics = run.metrics
    assert metrics["kind"] == "spans"
    assert metrics["coverage"] == 1.0
    assert metrics["aggregator"]["selected_on"] == "valid"
    assert metrics["aggregator"]["name"] == "majority_vote"  # every candidate is perfect: the simplest wins
    assert metrics["end_model"]["status"] == EndModelStatus.SKIPPED
    test = metrics["splits"]["test"]
    assert (test["n_items"], test["n_gold"], test["n_usable_gold"]) == (6, 6, 0)
    assert (test["weak_label"]["f1"], test["weak_label"]["tp"]) == (1.0, 12)
    assert test["weak_label"]["per_type"]["loc"]["support"] == 6
    assert set(test["aggregators"]) == {"majority_vote", "weighted_vote", "hmm"}
    analysis = {row["name"]: row for row in run.lf_analysis}
    assert analysis["places"]["polarity"] == ["loc"]
    assert (analysis["places"]["coverage"], analysis["places"]["empirical_accuracy"]) == (0.6667, 1.0)
    assert analysis["ext"]["correct"] == 12
    # the item browser's rows
    item = project.items.get(text__startswith="Anna Berg flew to Oslo on day 0")
    weak = ItemWeakLabel.objects.get(item=item)
    assert weak.spans == [span_of(item.text, "Anna Berg", "per"), span_of(item.text, "Oslo", "loc")]
    assert (weak.label, weak.confidence) == ("per", 1.0)
    assert set(ItemLfVote.objects.filter(item=item).values_list("labeling_function__name", "label")) == {
        ("places", "loc"),
        ("flyers", "per"),
    }
    assert {vote.name: vote.vote for vote in item_lf_votes_get(run=run, item_id=item.pk)} == {
        "ext": "",
        "flyers": "per",
        "places": "loc",
    }


def test_a_python_span_lf_runs_in_the_sandbox_and_a_bad_answer_fails_only_that_lf(start_run: Any) -> None:
    # given
    project = span_project()
    code = "def label(item):\n    end = item.text.index(' flew')\n    return [(0, end, 'per')]\n"
    bad = "def label(item):\n    return [(0, 10_000, 'per')]\n"
    span_lf(project, "python", "python", "", {"code": code})
    span_lf(project, "bad", "python", "", {"code": bad})

    # when
    run = start_run(project)

    # then
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.metrics["splits"]["test"]["weak_label"]["per_type"]["per"]["f1"] == 1.0
    failed = run.metrics["lf_errors"][str(project.labeling_functions.get(name="bad").pk)]
    assert "0 <= start < end <=" in failed["error"]
