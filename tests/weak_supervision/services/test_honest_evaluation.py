"""Honest evaluation: labels that only score (the test split's, evaluation-only ones) never fit, weigh, choose
or stop anything. Changing them changes no weak label, no end-model answer and no choice; only the scores."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest

from labeling.models import Annotation, EvaluationLabel
from projects.choices import Split
from projects.models import Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory
from tests.weak_supervision.factories import keyword_lf
from weak_supervision.models import LabelModelRun
from weak_supervision.selectors import end_model_probabilities_get, run_probabilities_get

pytestmark = pytest.mark.django_db

WORDS = {
    "spam": ["win", "prize", "free", "cash", "claim", "urgent", "offer", "now"],
    "ham": ["home", "dinner", "mum", "tonight", "late", "see", "you", "later"],
}


def _project() -> Project:
    """Train items (evaluation-only labels, as a WRENCH import keeps them), valid items with gold (usable),
    test items with gold answers (they only score); keyword LFs that cover most items, some wrongly."""
    rng = random.Random(5)
    project = ProjectFactory()
    for index in range(150):
        split = Split.TRAIN if index < 90 else Split.VALID if index < 120 else Split.TEST
        label = "spam" if rng.random() < 0.45 else "ham"
        other = "ham" if label == "spam" else "spam"
        words = rng.sample(WORDS[label], 3) + rng.sample(WORDS[other], 1)
        item = ItemFactory(project=project, text=" ".join(words) + f" {index}", split=split)
        if split == Split.TRAIN:
            EvaluationLabel.objects.create(project=project, item=item, labels=[label])
        else:
            AnnotationFactory(item=item, labels=[label])
    keyword_lf(project, "prize", "spam", "prize", "win")
    keyword_lf(project, "cash", "spam", "cash", "claim")
    keyword_lf(project, "free", "spam", "free", "you")  # "you" is a ham word: this LF errs
    keyword_lf(project, "home", "ham", "home", "dinner")
    keyword_lf(project, "mum", "ham", "mum", "tonight", "now")  # "now" is a spam word
    return project


def _flip_scoring_labels(project: Project) -> None:
    for label in EvaluationLabel.objects.filter(project=project):
        label.labels = ["ham" if label.labels == ["spam"] else "spam"]
        label.save()
    for annotation in Annotation.objects.filter(project=project, item__split=Split.TEST):
        annotation.labels = ["ham" if annotation.labels == ["spam"] else "spam"]
        annotation.save()


def _outputs(run: LabelModelRun) -> dict[str, Any]:
    loaded = run_probabilities_get(run=run)
    end = end_model_probabilities_get(run=run)
    assert loaded is not None
    assert end is not None
    aggregator = run.metrics["aggregator"]
    end_model = run.metrics["end_model"]
    return {
        "weak": loaded[1],
        "end": end[1],
        "choice": (aggregator["name"], aggregator["selected_on"], aggregator["scores"]),
        "end_choice": (
            end_model["features"],
            end_model["C"],
            end_model["scores"],
            end_model["fills_uncovered"],
        ),
    }


def test_changing_test_split_and_evaluation_only_labels_changes_no_weak_label_end_model_or_choice(
    start_run: Any,
) -> None:
    # given a run on a project with usable gold, test-split gold and evaluation-only labels
    project = _project()
    before = _outputs(start_run(project))
    scored_before = LabelModelRun.objects.get(project=project, number=1).metrics["splits"]

    # when every test-split and evaluation-only label is flipped and the project is run again
    _flip_scoring_labels(project)
    after_run = start_run(project)
    after = _outputs(after_run)

    # then the weak labels, the end model's answers and every choice are the same, to the bit
    assert np.array_equal(before["weak"], after["weak"])
    assert np.array_equal(before["end"], after["end"])
    assert before["choice"] == after["choice"]
    assert before["end_choice"] == after["end_choice"]
    # and only the scores of the train and test splits moved (they read those labels), the valid split's not
    scored_after = after_run.metrics["splits"]
    assert scored_after["valid"]["weak_label"] == scored_before["valid"]["weak_label"]
    for split in ("train", "test"):
        assert scored_after[split]["n_gold"] == scored_before[split]["n_gold"] > 0
        assert scored_after[split]["weak_label"] != scored_before[split]["weak_label"]
