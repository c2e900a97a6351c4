"""The end model: trained on the label model's answers after a run, it labels items no LF covers."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pytest

from features.choices import BlockKind
from features.models import FeatureBlock
from imports.services.jobs import import_options_build, items_import
from projects.services.projects import label_specs_from_keys, project_create
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory
from tests.weak_supervision.factories import keyword_lf, project_with_uncovered_test_items
from weak_supervision.choices import EndModelStatus, RunStatus
from weak_supervision.selectors import end_model_probabilities_get, run_probabilities_get
from weak_supervision.services.end_model import (
    _Choice,
    _Data,
    _region_decision,
    _select,
    combined,
    end_model_fit,
)

pytestmark = pytest.mark.django_db


def test_after_a_run_the_end_model_labels_items_no_lf_covers(start_run: Any) -> None:
    # given a project whose test items no LF covers
    project = project_with_uncovered_test_items()

    # when a run finishes (its end model task runs after it)
    run = start_run(project)

    # then the aggregator leaves the test items at the prior, and the end model reads their words; with no
    # usable gold (the test split's labels only score) nothing shows that it beats the aggregator there, so
    # it does not fill them
    assert run.status == RunStatus.SUCCEEDED
    end = run.metrics["end_model"]
    assert (end["status"], end["n_train"]) == (EndModelStatus.SUCCEEDED, 40)
    assert (end["selected_on"], end["fills_uncovered"]) == ("default", False)
    assert run.metrics["aggregator"]["selected_on"] == "default"
    test = run.metrics["splits"]["test"]
    assert test["coverage"] == 0.0
    assert test["end_model"]["accuracy"] == 1.0
    loaded = end_model_probabilities_get(run=run)
    assert loaded is not None
    ids, probabilities = loaded
    assert len(ids) == 44
    assert probabilities.shape == (44, 2)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    # where the end model does not answer, the delivered probabilities are the aggregator's
    delivered = end_model_probabilities_get(run=run, delivered=True)
    assert delivered is not None
    assert np.array_equal(delivered[0], ids)
    aggregator = run_probabilities_get(run=run)
    assert aggregator is not None
    assert np.allclose(delivered[1], aggregator[1])


def test_the_end_model_is_skipped_with_a_reason_when_too_few_items_are_covered(start_run: Any) -> None:
    # given LFs that cover only three items
    project = ProjectFactory()
    for index in range(12):
        ItemFactory(project=project, text="a free prize" if index < 3 else f"nothing here {index}")
    keyword_lf(project, "prize", "spam", "prize")
    keyword_lf(project, "free", "spam", "free")
    keyword_lf(project, "home", "ham", "home")

    # when
    run = start_run(project)

    # then
    assert run.status == RunStatus.SUCCEEDED
    assert run.metrics["end_model"]["status"] == EndModelStatus.SKIPPED
    assert "fewer than" in run.metrics["end_model"]["reason"]
    assert end_model_probabilities_get(run=run) is None


def test_the_end_model_runs_once_per_run(start_run: Any) -> None:
    # given a finished run with its end model
    project = project_with_uncovered_test_items()
    run = start_run(project)
    first = dict(run.metrics["end_model"])

    # when it is fitted again (a redelivered task)
    end_model_fit(run=run)
    run.refresh_from_db()

    # then the result is the same
    assert run.metrics["end_model"]["status"] == first["status"] == EndModelStatus.SUCCEEDED
    assert run.metrics["end_model"]["n_train"] == first["n_train"]


def test_on_wrench_sms_the_end_model_beats_majority_vote_on_spam_f1(
    shared_data: Path, start_run: Any
) -> None:
    # given WRENCH sms: 73 keyword LFs whose spam rules barely fire on the test split
    project = project_create(name="sms", labels=label_specs_from_keys(["ham", "spam"]), created_by=None)
    items_import(
        project=project, source=shared_data / "wrench" / "sms", options=import_options_build(format="wrench")
    )

    # when
    run = start_run(project)

    # then: WRENCH reports 23.97 spam F1 for majority vote (and 7.06 for Snorkel's label model); the end
    # model beats it, held-out valid gold shows it beats the aggregator on uncovered items, so the delivered
    # weak labels take its answers there
    test = run.metrics["splits"]["test"]
    assert test["majority_vote"]["f1"]["spam"] == pytest.approx(0.2397, abs=1e-4)
    assert test["end_model"]["f1"]["spam"] > 0.8
    assert run.metrics["end_model"]["fills_uncovered"] is True
    assert test["weak_label"]["f1"]["spam"] > test["majority_vote"]["f1"]["spam"]


def test_a_multi_label_project_gets_an_end_model_that_answers_per_label(start_run: Any) -> None:
    # given a multi-label project whose LFs never vote "other", with 40 gold items (a fifth uncovered)
    project = ProjectFactory(multi_label=True, labels=["billing", "urgent", "other"])
    texts = {
        "refund my invoice please": ["billing"],
        "urgent outage right now": ["urgent"],
        "urgent refund of invoice": ["billing", "urgent"],
        "thanks for the lovely help": ["other"],
        "lovely thanks again friend": ["other"],
    }
    for round_ in range(8):
        for text, labels in texts.items():
            AnnotationFactory(item=ItemFactory(project=project, text=f"{text} {round_}"), labels=labels)
    for round_ in range(12):
        ItemFactory(project=project, text=f"refund invoice urgent {round_}")
    keyword_lf(project, "money", "billing", "refund", "invoice")
    keyword_lf(project, "hurry", "urgent", "urgent")

    # when
    run = start_run(project)

    # then the end model is trained and chosen out of fold, answers yes/no per label for every item, and is
    # scored per label; it learned "other", which no LF votes for, from the gold items
    end = run.metrics["end_model"]
    assert end["status"] == EndModelStatus.SUCCEEDED, end.get("error")
    assert end["selected_on"] == "cross_validation"
    loaded = end_model_probabilities_get(run=run)
    assert loaded is not None
    ids, probabilities = loaded
    assert probabilities.shape == (len(ids), 3)
    scored = run.metrics["splits"]["all"]["end_model"]
    assert set(scored["f1"]) == {"billing", "urgent", "other"}
    assert scored["f1"]["other"] > 0.8
    assert "labels_without_lfs" in {warning["code"] for warning in run.metrics["warnings"]}


def test_together_the_end_model_and_the_aggregator_multiply_their_probabilities() -> None:
    # given an end model and an aggregator that each lean one way on two items
    end = np.array([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]])
    aggregator = np.array([[0.2, 0.7, 0.1], [0.0, 0.5, 0.5]])

    # when
    both = combined(end, aggregator, multi_label=False)
    per_label = combined(np.array([[0.9, 0.2]]), np.array([[0.5, 0.2]]), multi_label=True)

    # then each class's probabilities multiply and are normalised; a zero from one side stays (nearly) zero;
    # per label, yes and no multiply alike (0.5 is no evidence either way)
    assert np.allclose(both.sum(axis=1), 1.0)
    assert both[0].argmax() == 1
    assert both[0][1] == pytest.approx(0.21 / (0.12 + 0.21 + 0.01))
    assert both[1][0] < 1e-4
    assert both[1].argmax() == 2
    assert per_label[0] == pytest.approx([0.9, 0.04 / (0.04 + 0.64)])


def _decision_data(truth: list[int], aggregator: list[list[float]]) -> _Data:
    n = len(truth)
    return _Data(
        ids=np.arange(1, n + 1, dtype=np.int64), probabilities=np.asarray(aggregator, dtype=np.float32),
        aggregator="weighted_majority_vote", vote_shares=np.asarray(aggregator, dtype=np.float64),
        covered=np.ones(n, dtype=bool), splits=np.full(n, "valid", dtype="U8"),
        usable=np.asarray(truth, dtype=np.int64), truth=np.asarray(truth, dtype=np.int64),
    )  # fmt: skip


def _choice(data: _Data, end: list[list[float]]) -> _Choice:
    rows = np.arange(len(data.ids), dtype=np.int64)
    return _Choice("aggregator", "static", 1.0, "valid", {}, rows, np.asarray(end, dtype=np.float64))


@pytest.mark.parametrize(
    ("aggregator", "end", "answered_by"),
    [
        # the aggregator is right on all 20, the end model on 10: the aggregator answers alone
        ([[0.9, 0.1]] * 20, [[0.6, 0.4]] * 10 + [[0.4, 0.6]] * 10, "aggregator"),
        # the end model is right on all, the aggregator on half, sure where it is wrong: the end model alone
        ([[0.6, 0.4]] * 10 + [[0.1, 0.9]] * 10, [[0.9, 0.1]] * 20, "end_model"),
        # each is wrong on a different quarter, unsure there; sure where right: together they are right on all
        (
            [[0.45, 0.55]] * 5 + [[0.9, 0.1]] * 15,
            [[0.9, 0.1]] * 5 + [[0.4, 0.6]] * 5 + [[0.9, 0.1]] * 10,
            "combined",
        ),
    ],
)
def test_held_out_gold_decides_who_answers_for_a_region(
    aggregator: list[list[float]], end: list[list[float]], answered_by: str
) -> None:
    # given 20 covered held-out gold items, all of class 0
    data = _decision_data([0] * 20, aggregator)

    # when
    decision = _region_decision(data, _choice(data, end), ["a", "b"], covered=True)

    # then
    assert decision["answered_by"] == answered_by
    assert decision["takes"] is (answered_by != "aggregator")
    assert decision["combines"] is (answered_by == "combined")
    assert decision["n_heldout"] == 20


def test_a_region_with_too_few_held_out_items_stays_with_the_aggregator() -> None:
    # given 5 held-out items on which the end model is right and the aggregator wrong
    data = _decision_data([0] * 5, [[0.1, 0.9]] * 5)

    # when
    decision = _region_decision(data, _choice(data, [[0.9, 0.1]] * 5), ["a", "b"], covered=True)

    # then 5 items are too few evidence to let the end model answer
    assert (decision["answered_by"], decision["takes"]) == ("aggregator", False)
    assert "at least 10" in decision["reason"]


def test_the_end_model_reads_the_items_metadata_fields_only_where_they_carry_text(start_run: Any) -> None:
    # given two projects alike, the items of one carrying a metadata text field
    bare = project_with_uncovered_test_items()
    fielded = project_with_uncovered_test_items()
    for item in fielded.items.all():
        item.metadata = {"channel": "sms" if item.pk % 2 else "email"}
        item.save(update_fields=["metadata"])

    # when a run and its end model finish in each
    runs = [start_run(project) for project in (bare, fielded)]

    # then only the fielded project's end model built (and could choose) the fields' features
    assert all(run.metrics["end_model"]["status"] == EndModelStatus.SUCCEEDED for run in runs)
    assert not FeatureBlock.objects.filter(project=bare, kind=BlockKind.FIELDS).exists()
    assert FeatureBlock.objects.get(project=fielded, kind=BlockKind.FIELDS).rows == 44


def test_the_end_model_compares_the_words_between_marked_spans_where_the_items_mark_two(
    start_run: Any,
) -> None:
    # given a project whose items mark two spans of their text (relation items: the first and last word)
    project = project_with_uncovered_test_items()
    for item in project.items.all():
        words = item.text.split(" ")
        item.metadata = {
            "span1": [0, len(words[0])],
            "span2": [len(item.text) - len(words[-1]), len(item.text)],
        }
        item.save(update_fields=["metadata"])

    # when a run and its end model finish
    run = start_run(project)

    # then the context block was built for every item (the end model's choice compared it) and no fields block
    assert run.metrics["end_model"]["status"] == EndModelStatus.SUCCEEDED
    assert FeatureBlock.objects.get(project=project, kind=BlockKind.CONTEXT).rows == 44
    assert not FeatureBlock.objects.filter(project=project, kind=BlockKind.FIELDS).exists()


def _spread_data(seed: int = 0) -> tuple[_Data, dict[str, Any]]:
    """300 training items and 60 valid gold items of three classes, the first 80% of them, whose features say
    their class; the aggregator's probabilities mix each item's true class and that prior half and half, so they
    are right on every item but spread over the classes as the prior is."""
    rng = np.random.default_rng(seed)
    prior = np.array([0.8, 0.1, 0.1])
    truth = rng.choice(3, size=360, p=prior)
    x = np.eye(3)[truth] + rng.normal(0, 0.8, size=(360, 3))
    spread = 0.5 * np.eye(3)[truth] + 0.5 * prior
    splits = np.asarray(["train"] * 300 + ["valid"] * 60, dtype="U8")
    data = _Data(
        ids=np.arange(1, 361, dtype=np.int64), probabilities=spread.astype(np.float32), aggregator="majority_vote",
        vote_shares=spread, covered=np.ones(360, dtype=bool), splits=splits,
        usable=np.where(splits == "valid", truth, -1), truth=truth.astype(np.int64),
    )  # fmt: skip
    return data, {"static": lambda rows: x[rows]}


def test_held_out_gold_chooses_hard_targets_where_the_aggregators_probabilities_teach_its_spread() -> None:
    # given an aggregator right on every item but sure of none (its probabilities lean to the commonest class)
    data, x_of = _spread_data()
    run = SimpleNamespace(labels=["a", "b", "c"], project_id=1)
    train = data.splits == "train"

    # when the end model's configuration is chosen on the valid gold
    choice = _select(cast(Any, run), data, train, np.ones(360, dtype=bool), x_of, 3)

    # then soft targets teach the classifier to answer the commonest class; the answers as hard targets teach
    # it the classes, and held-out gold says so
    soft = max(score for name, score in choice.scores.items() if "/hard" not in name)
    hard = choice.scores[f"aggregator/hard:static:C={choice.c:g}"]
    assert (choice.selected_on, choice.targets) == ("valid", "hard")
    assert hard > soft + 0.1
    assert len(choice.heldout_rows) == 60


def test_soft_targets_stay_where_hard_ones_do_not_beat_them() -> None:
    # given an aggregator whose probabilities are its answers (one-hot): soft and hard targets are the same
    data, x_of = _spread_data(seed=1)
    data.probabilities = np.eye(3, dtype=np.float32)[data.truth]
    run = SimpleNamespace(labels=["a", "b", "c"], project_id=1)

    # when
    choice = _select(cast(Any, run), data, data.splits == "train", np.ones(360, dtype=bool), x_of, 3)

    # then the tie goes to the simpler: the soft targets the issue asks for
    assert choice.targets == "soft"
    assert any("/hard" in name for name in choice.scores)
