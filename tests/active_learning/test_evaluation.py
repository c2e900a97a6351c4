from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from active_learning.choices import Strategy
from active_learning.evaluation import HeldOut, Pool, metric_validate, metric_value, metrics_compute, simulate
from features.classifiers import classifier_fit, probabilities_full


def test_metrics_by_hand() -> None:
    # given four held-out items of three classes; the third is wrongly called ham
    y_true = np.asarray([0, 1, 1, 2])
    proba = np.asarray([[0.8, 0.2, 0.0], [0.4, 0.6, 0.0], [0.7, 0.3, 0.0], [0.1, 0.1, 0.8]])

    # when
    metrics = metrics_compute(y_true, proba, ["ham", "spam", "eggs"])

    # then ham: precision 1/2, recall 1 -> F1 2/3; spam: precision 1, recall 1/2 -> 2/3; eggs: 1
    # Brier: (0.04 + 0.04) + (0.16 + 0.16) + (0.49 + 0.49) + (0.01 + 0.01 + 0.04) = 1.44, over 4 items
    assert metrics == {
        "n_heldout": 4,
        "accuracy": 0.75,
        "macro_f1": 0.7778,
        "f1": {"ham": 0.6667, "spam": 0.6667, "eggs": 1.0},
        "brier": 0.36,
    }


def test_a_class_no_held_out_item_has_counts_as_zero_in_macro_f1() -> None:
    y_true = np.asarray([0, 1])
    proba = np.asarray([[0.9, 0.1, 0.0], [0.0, 1.0, 0.0]])

    metrics = metrics_compute(y_true, proba, ["ham", "spam", "eggs"])

    assert metrics == {
        "n_heldout": 2, "accuracy": 1.0, "macro_f1": 0.6667, "f1": {"ham": 1.0, "spam": 1.0, "eggs": 0.0},
        "brier": 0.01,
    }  # fmt: skip


def test_metrics_of_no_held_out_items() -> None:
    assert metrics_compute(np.zeros(0, dtype=np.int64), np.zeros((0, 2)), ["ham", "spam"]) == {"n_heldout": 0}


def test_probabilities_full_gives_a_zero_column_to_a_class_the_model_never_saw() -> None:
    # given a model trained on classes 0 and 2 of three
    x = np.asarray([[0.0], [0.1], [1.0], [1.1]])
    model = classifier_fit(x, np.asarray([0, 0, 2, 2]))

    # when
    proba = probabilities_full(model, x, 3)

    # then
    assert proba.shape == (4, 3)
    assert proba[:, 1].tolist() == [0.0] * 4
    assert np.allclose(proba[:, [0, 2]], model.predict_proba(x))


@pytest.mark.parametrize("metric", ["accuracy", "macro_f1", "f1:spam", "f1:ham"])
def test_known_metrics_are_accepted(metric: str) -> None:
    assert metric_validate(metric, ["ham", "spam"]) == metric


@pytest.mark.parametrize("metric", ["brier", "f1:eggs", "f1:", "f1", "", "Accuracy"])
def test_unknown_metrics_are_refused(metric: str) -> None:
    with pytest.raises(ValueError, match="^Unknown metric") as error:
        metric_validate(metric, ["ham", "spam"])

    assert str(error.value) == (
        f"Unknown metric '{metric}': use accuracy, macro_f1 or f1:LABEL (a label of the project: ham, spam)."
    )


def test_metric_value_reads_a_class_f1() -> None:
    metrics = {"accuracy": 0.5, "macro_f1": 0.25, "f1": {"ham": 0.75, "spam": 0.125}}

    assert [metric_value(name, metrics) for name in ("accuracy", "macro_f1", "f1:spam")] == [0.5, 0.25, 0.125]


def _blobs(n: int, seed: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Two well separated clouds of points: class 0 left, class 1 right."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 2).astype(np.int64)
    x = rng.normal(scale=0.5, size=(n, 2)) + np.where(y[:, None] == 1, [3.0, 0.0], [-3.0, 0.0])
    return x, y


def test_simulate_gives_every_strategy_a_learning_curve() -> None:
    # given
    x, y = _blobs(40, seed=0)
    x_test, y_test = _blobs(20, seed=1)
    ids = np.arange(1, 41, dtype=np.int64)
    calls: list[tuple[str, int]] = []

    # when
    result = simulate(
        pool=Pool(x, y, ids), test=HeldOut(x_test, y_test), labels=["ham", "spam"],
        strategies=[Strategy.RANDOM, Strategy.MARGIN_DIVERSE], budget=20, step=5, seeds=2,
        metric="accuracy", progress=lambda strategy, seed: calls.append((strategy, seed)),
    )  # fmt: skip

    # then
    assert sorted(result) == ["full_train", "metric", "strategies"]
    assert (result["metric"], result["full_train"]) == ("accuracy", 1.0)
    assert list(result["strategies"]) == ["random", "margin_diverse"]
    for strategy in result["strategies"].values():
        assert sorted(strategy) == ["curve", "labels_to_95"]
        assert [n for n, _ in strategy["curve"]] == [5, 10, 15, 20]
        assert all(0.0 <= value <= 1.0 for _, value in strategy["curve"])
        assert strategy["curve"][-1][1] == 1.0
        reached = [n for n, value in strategy["curve"] if value >= 0.95]
        assert strategy["labels_to_95"] == reached[0]
    assert calls == [("random", 0), ("random", 1), ("margin_diverse", 0), ("margin_diverse", 1)]


def test_a_simulation_is_the_same_when_run_again() -> None:
    x, y = _blobs(30, seed=2)
    x_test, y_test = _blobs(10, seed=3)
    options = {"pool": Pool(x, y, np.arange(30, dtype=np.int64)), "test": HeldOut(x_test, y_test), "labels": ["a", "b"],
               "strategies": [Strategy.RANDOM, Strategy.ENTROPY], "budget": 12, "step": 4, "seeds": 1,
               "metric": "macro_f1"}  # fmt: skip

    assert simulate(**options) == simulate(**options)  # type: ignore[arg-type]


def test_a_strategy_that_never_trains_within_the_budget_never_reaches_95_percent() -> None:
    # given a budget of one label: no model can be trained on a single class
    x, y = _blobs(20, seed=4)
    x_test, y_test = _blobs(10, seed=5)

    # when
    result = simulate(pool=Pool(x, y, np.arange(20, dtype=np.int64)), test=HeldOut(x_test, y_test), labels=["a", "b"],
                      strategies=[Strategy.RANDOM], budget=1, step=1, seeds=1, metric="f1:b")  # fmt: skip

    # then
    assert result == {
        "metric": "f1:b", "full_train": 1.0,
        "strategies": {"random": {"curve": [[1, 0.0]], "labels_to_95": None}},
    }  # fmt: skip


def test_with_other_feature_sets_each_retrain_reads_the_one_its_labels_choose() -> None:
    # given a pool whose own features are noise and another set that separates the classes
    rng = np.random.default_rng(4)
    x, y = _blobs(80, seed=4)
    x_test, y_test = _blobs(40, seed=5)
    noise, noise_test = rng.normal(size=(80, 2)), rng.normal(size=(40, 2))
    options = {"labels": ["ham", "spam"], "strategies": [Strategy.RANDOM], "budget": 40, "step": 10, "seeds": 1,
               "metric": "accuracy"}  # fmt: skip

    # when the simulation runs on the noise alone, and with the other set beside it
    alone = simulate(pool=Pool(noise, y, np.arange(80, dtype=np.int64)), test=HeldOut(noise_test, y_test),
                     **options)  # type: ignore[arg-type]  # fmt: skip
    both = simulate(
        pool=Pool(noise, y, np.arange(80, dtype=np.int64), {"hybrid+context": x}),
        test=HeldOut(noise_test, y_test, {"hybrid+context": x_test}), **options,  # type: ignore[arg-type]
    )  # fmt: skip

    # then below 20 labels the pool's own set is read; from 20 on the telling set, as is the full-data model's
    curve = dict(both["strategies"]["random"]["curve"])
    assert curve[10] == dict(alone["strategies"]["random"]["curve"])[10]
    assert curve[20] == curve[30] == curve[40] == 1.0
    assert both["full_train"] == 1.0
    assert alone["full_train"] < 0.8
