"""The strategy simulator: replays the active-learning loop on a project's known answers (the oracle: gold
labels, and evaluation-only labels in their items' place), on its train split, scored on its test split (or
a held-out fifth where the project has no splits). A replay stands in for analysts' answers, so it may read
answers that nothing else may train on; it only shows curves. A span project replays its known spans with
the tagger (active_learning.span_evaluation), its curves of exact-match micro span F1."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone

from active_learning import tasks
from active_learning.choices import SimulationStatus, Strategy
from active_learning.evaluation import HeldOut, Pool, metric_validate, simulate
from active_learning.models import Simulation
from active_learning.selectors import HOLDOUT_SHARE, span_data_get, truth_spans, weak_doubt_get
from active_learning.services.training import learner_settings_get
from active_learning.span_evaluation import SPAN_METRIC, SpanData, span_simulate
from core.jobs import enqueue_on_commit
from features.choices import DEFAULT_FEATURES
from features.classifiers import can_train, hash_uniform
from features.selectors import project_extra_feature_sets
from features.services.cache import features_get, features_refresh, idf_compute, stored_kinds
from labeling.selectors.gold import truth_labels
from projects.choices import Split
from projects.models import Item, Project

MAX_SEEDS = 10
MAX_STEPS = 200  # budget / step: points on a curve (each point retrains every strategy once per seed)
ERROR_STRATEGY = "Unknown strategy '{name}'; choose from: default, {choices}."
ERROR_BUDGET = "The budget and the step must be positive, with the step at most the budget."
ERROR_STEPS = f"At most {MAX_STEPS} points per curve: raise the step or lower the budget."
ERROR_SEEDS = f"Seeds must be between 1 and {MAX_SEEDS}."
ERROR_POOL = (
    "The simulation needs items with known answers of at least two classes in its pool (found {found})."
)
ERROR_POOL_SPANS = (
    "The simulation needs items with known spans in its pool (the train split or unsplit items)."
)
ERROR_TEST = (
    "The simulation needs items with known answers to score on (the test split, or enough items to hold out)."
)


def strategies_parse(*, project: Project, names: Sequence[str]) -> list[str]:
    """Strategy names, with 'default' standing for the project's own strategy."""
    default = learner_settings_get(project=project).strategy
    parsed = []
    for name in names:
        name = name.strip()
        if name == "default":
            name = default
        if name not in Strategy.values:
            raise ValidationError(
                ERROR_STRATEGY.format(name=name, choices=", ".join(Strategy.values)), code="strategy"
            )
        if name not in parsed:
            parsed.append(name)
    return parsed


def _validate(
    project: Project, strategies: Sequence[str], budget: int, step: int, seeds: int, metric: str
) -> list[str]:
    parsed = strategies_parse(project=project, names=strategies)
    if not parsed:
        raise ValidationError("Name at least one strategy.", code="strategy")
    if budget < 1 or step < 1 or step > budget:
        raise ValidationError(ERROR_BUDGET, code="budget")
    if budget / step > MAX_STEPS:
        raise ValidationError(ERROR_STEPS, code="budget")
    if not 1 <= seeds <= MAX_SEEDS:
        raise ValidationError(ERROR_SEEDS, code="seeds")
    if project.is_spans:  # a span project's curves are of span F1, whatever metric was asked for
        return parsed
    labels = list(project.labels.values_list("key", flat=True))
    try:
        metric_validate(metric, labels)
    except ValueError as exc:
        raise ValidationError(str(exc), code="metric") from None
    return parsed


def simulation_create(
    *, project: Project, user: User | None, strategies: Sequence[str], budget: int, step: int, seeds: int = 3,
    metric: str = "accuracy", run_now: bool = False,
) -> Simulation:  # fmt: skip
    """Records a simulation and runs it on a worker once committed (or here, with run_now)."""
    if project.multi_label:
        raise ValidationError("Simulations need a single-label project.", code="multi_label")
    parsed = _validate(project, strategies, budget, step, seeds, metric)
    if project.is_spans:
        metric = SPAN_METRIC
    simulation = Simulation.objects.create(
        project=project,
        created_by=user,
        strategies=parsed,
        budget=budget,
        step=step,
        seeds=seeds,
        metric=metric,
    )
    if run_now:
        return simulation_run(simulation=simulation)
    enqueue_on_commit(tasks.simulation_run_task, simulation.pk)
    return simulation


def _data(project: Project, kind: str) -> tuple[Pool, HeldOut, list[str]]:
    """The oracle's items and their features: of the project's setting, and, as a retrain compares them
    (active_learning.feature_sets), of the sets its items call for where the setting is the default."""
    labels = list(project.labels.order_by("order", "pk").values_list("key", flat=True))
    index = {key: position for position, key in enumerate(labels)}
    gold = {item: index[key] for item, key in truth_labels(project=project).items() if key in index}
    extras = project_extra_feature_sets(project=project) if kind == DEFAULT_FEATURES else ()
    for part in dict.fromkeys(part for name in (kind, *extras) for part in stored_kinds(name)):
        features_refresh(project=project, kind=part)
    idf = idf_compute(project=project, kind=kind)
    splits = dict(Item.objects.filter(project=project, pk__in=list(gold)).values_list("pk", "split"))
    ids, x = features_get(project=project, kind=kind, item_ids=gold, idf=idf)
    others = {}
    for name in extras:
        other_ids, other_x = features_get(project=project, kind=name, item_ids=ids.tolist(), idf=idf)
        if other_x is not None and np.array_equal(other_ids, ids):
            others[name] = other_x
    y = np.asarray([gold[i] for i in ids.tolist()], dtype=np.int64)
    split = np.asarray([splits.get(i, "") for i in ids.tolist()])
    if (split == Split.TEST).any():
        test = split == Split.TEST
    else:
        test = hash_uniform(ids, f"simulation:{project.pk}") < HOLDOUT_SHARE
    pool = ~test & (split != Split.VALID)  # the train split and unsplit items
    if x is None or not can_train(y[pool]):
        found = len(np.unique(y[pool])) if x is not None else 0
        raise ValidationError(ERROR_POOL.format(found=found), code="pool")
    if not test.any():
        raise ValidationError(ERROR_TEST, code="test")
    return (
        Pool(x[pool], y[pool], ids[pool], {name: other[pool] for name, other in others.items()}),
        HeldOut(x[test], y[test], {name: other[test] for name, other in others.items()}),
        labels,
    )


def _span_data(project: Project) -> tuple[SpanData, SpanData]:
    """A span project's oracle: every item's known spans (gold, and evaluation-only spans in their place);
    the pool is the train split and unsplit items, scored on the test split (or a held-out fifth)."""
    data = span_data_get(project=project, answers=truth_spans(project=project))
    splits = dict(
        Item.objects.filter(project=project, split__in=[Split.TEST, Split.VALID]).values_list("pk", "split")
    )
    split = np.asarray([splits.get(i, "") for i in data.ids.tolist()])
    test = split == Split.TEST
    if not test.any():
        test = hash_uniform(data.ids, f"simulation:{project.pk}") < HOLDOUT_SHARE
    pool = np.flatnonzero(~test & (split != Split.VALID))
    if not any(data.spans[row] for row in pool.tolist()):
        raise ValidationError(ERROR_POOL_SPANS, code="pool")
    if not test.any():
        raise ValidationError(ERROR_TEST, code="test")
    return data.rows(pool), data.rows(np.flatnonzero(test))


def simulation_compute(
    *, project: Project, strategies: Sequence[str], budget: int, step: int, seeds: int, metric: str,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The simulator's answer, shaped like the CLI's --json line."""
    settings = learner_settings_get(project=project)
    parsed = _validate(project, strategies, budget, step, seeds, metric)
    if project.is_spans:
        span_pool, span_test = _span_data(project)
        types = list(project.labels.order_by("order", "pk").values_list("key", flat=True))
        result = span_simulate(pool=span_pool, test=span_test, types=types, strategies=parsed, budget=budget,
                               step=step, seeds=seeds, progress=progress)  # fmt: skip
        return {
            **result,
            "default": settings.strategy,
            "pool": len(span_pool.ids),
            "test": len(span_test.ids),
        }
    pool, test, labels = _data(project, settings.features)
    doubt = None
    if Strategy.WEAK in parsed:
        doubt = weak_doubt_get(project, pool.ids)
    result = simulate(pool=pool, test=test, labels=labels, strategies=parsed, budget=budget, step=step,
                      seeds=seeds, metric=metric, weak_doubt=doubt, progress=progress)  # fmt: skip
    result["default"] = settings.strategy
    result["pool"] = len(pool.y)
    result["test"] = len(test.y)
    return result


def simulation_run(*, simulation: Simulation) -> Simulation:
    Simulation.objects.filter(pk=simulation.pk).update(status=SimulationStatus.RUNNING)
    try:
        result = simulation_compute(
            project=simulation.project, strategies=simulation.strategies, budget=simulation.budget,
            step=simulation.step, seeds=simulation.seeds, metric=simulation.metric,
        )  # fmt: skip
    except ValidationError as exc:
        Simulation.objects.filter(pk=simulation.pk).update(
            status=SimulationStatus.FAILED, error=" ".join(exc.messages), finished_at=timezone.now()
        )
    except Exception:
        Simulation.objects.filter(pk=simulation.pk).update(
            status=SimulationStatus.FAILED, error=traceback.format_exc(), finished_at=timezone.now()
        )
        raise
    else:
        Simulation.objects.filter(pk=simulation.pk).update(
            status=SimulationStatus.SUCCEEDED, result=result, error="", finished_at=timezone.now()
        )
    simulation.refresh_from_db()
    return simulation
