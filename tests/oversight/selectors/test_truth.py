"""Reads of truth inference: the latest succeeded run's reliability per annotator and per LF, and the runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.exceptions import NotFoundError
from oversight.choices import JobStatus, SourceKind
from oversight.selectors.truth import (
    annotator_reliability,
    inference_run_get,
    inference_run_latest,
    inference_run_list,
    inferred_label_classes,
    lf_estimates_get,
    lf_reliability,
)
from projects.models import Project
from tests.oversight.factories import InferenceRunFactory, source_entry
from tests.projects.factories import ProjectFactory, UserFactory
from weak_supervision.hooks import LfEstimate, LfEstimates, lf_estimates

pytestmark = pytest.mark.django_db


def _sources(ana_id: int, bob_id: int) -> list[dict[str, Any]]:
    return [
        source_entry(SourceKind.ANNOTATOR, "ana", 0.9, user_id=ana_id, interval=[0.8, 0.95]),
        source_entry(SourceKind.ANNOTATOR, "bob", 0.6, user_id=bob_id, interval=[0.45, 0.73]),
        source_entry(SourceKind.ANNOTATOR, "vendor", 0.7),  # named in an import: no user
        source_entry(SourceKind.LABELING_FUNCTION, "prize", 0.85, lf_id=7, interval=[0.7, 0.93], answered=20),
        source_entry(SourceKind.EXTERNAL, "gpt", 0.8, lf_id=9, interval=[0.75, 0.84]),
        source_entry(SourceKind.END_MODEL, "end model", 0.88),
    ]


@pytest.fixture
def runs() -> Callable[..., Project]:
    """A project with an old succeeded run, the latest succeeded run (#2) and a newer failed run (#3)."""

    def build() -> Project:
        project = ProjectFactory()
        ana, bob = UserFactory(username="ana"), UserFactory(username="bob")
        InferenceRunFactory(
            project=project, number=1, sources=[source_entry(SourceKind.ANNOTATOR, "ana", 0.1)]
        )
        InferenceRunFactory(
            project=project, number=2, sources=_sources(ana.pk, bob.pk), labels=["ham", "spam"]
        )
        InferenceRunFactory(project=project, number=3, status=JobStatus.FAILED, sources=[], labels=[])
        return project

    return build


def test_annotator_reliability_is_the_latest_succeeded_runs_per_user(runs: Callable[..., Project]) -> None:
    # given
    project = runs()
    ana, bob = UserFactory(username="ana"), UserFactory(username="bob")

    # when
    with CaptureQueriesContext(connection) as queries:
        found = annotator_reliability(project=project)

    # then: the imported annotator has no user and is left out
    assert len(queries) == 1
    assert set(found) == {ana.pk, bob.pk}
    assert (found[ana.pk]["run"], found[ana.pk]["accuracy"], found[ana.pk]["interval"]) == (
        2,
        0.9,
        [0.8, 0.95],
    )
    assert found[bob.pk]["per_class"][0] == {
        "label": "ham",
        "accuracy": 0.6,
        "interval": [0.45, 0.73],
        "items": 5.0,
    }
    assert found[bob.pk]["confusions"] == [
        {"label": None, "classes": ["ham", "spam"], "rows": [[0.6, 0.4], [0.4, 0.6]]}
    ]


def test_lf_reliability_has_labeling_functions_and_external_predictions(runs: Callable[..., Project]) -> None:
    # given
    project = runs()

    # when
    found = lf_reliability(project=project)

    # then
    assert {lf_id: (source["name"], source["accuracy"]) for lf_id, source in found.items()} == {
        7: ("prize", 0.85),
        9: ("gpt", 0.8),
    }


def test_the_run_page_hook_answers_with_each_lfs_estimate(runs: Callable[..., Project]) -> None:
    # given
    project = runs()

    # when: asked through the hook weak_supervision calls (oversight registers it)
    answer = lf_estimates(project)

    # then
    assert answer == lf_estimates_get(project)
    assert answer == LfEstimates(
        run_number=2,
        by_lf={7: LfEstimate(0.85, (0.7, 0.93), 20), 9: LfEstimate(0.8, (0.75, 0.84), 10)},
    )


def test_without_a_succeeded_run_there_is_nothing() -> None:
    # given
    project = ProjectFactory()
    InferenceRunFactory(project=project, number=1, status=JobStatus.RUNNING)

    # when / then
    assert inference_run_latest(project=project) is None
    assert annotator_reliability(project=project) == {}
    assert lf_reliability(project=project) == {}
    assert lf_estimates_get(project) is None
    assert inferred_label_classes(project=project) == []


def test_runs_are_listed_newest_first_and_got_by_number(runs: Callable[..., Project]) -> None:
    # given
    project = runs()
    other = InferenceRunFactory(number=4)

    # when
    listed = [run.number for run in inference_run_list(project=project)]

    # then
    assert listed == [3, 2, 1]
    assert inference_run_get(project=project, number=2).sources[0]["name"] == "ana"
    assert inferred_label_classes(project=project) == ["ham", "spam"]
    with pytest.raises(NotFoundError):
        inference_run_get(project=project, number=other.number)
