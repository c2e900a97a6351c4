"""The end model: a text classifier trained on the delivered weak labels, which generalises past the LFs.

It runs after a run succeeds, as its own task, so a run's labels never wait for it:

- **features**: the project's cached feature blocks (`features.services.cache`: built once per item, in
  blocks any worker can build, shared with active learning): hashed TF-IDF and static embeddings distilled
  from all-MiniLM-L6-v2 (`features.encoders`), and, where the project's items carry metadata text fields
  (names, entities, categories: `features.vectors.fields_text`), the static embedding of those fields beside
  them (`hybrid+fields`), and where their metadata marks two spans of the text (relation items), the words
  between them (`hybrid+context`, `hybrid+fields+context`: `features.vectors.context_text`); TF-IDF alone
  when the encoder is not installed;
- **training**: the covered items outside the test split (the train split where the project has one), each
  with the chosen aggregator's probabilities as a soft label (an item counts once per class, weighted by that
  class's probability) or, where held-out gold prefers it, its answer (below), and usable gold items with
  their gold label; at most END_MODEL_TRAIN_LIMIT of them,
  an even draw by a hash of the item;
- **model selection on held-out usable gold**, as the aggregators are chosen: on the valid split's gold
  where it has at least MIN_HELDOUT items (left out of the selection fits), else out of fold over CV_FOLDS
  folds of the usable gold; candidates are logistic regressions for each soft-label source (the chosen
  aggregator's, and majority vote's where another aggregator was chosen: an aggregator fitted to gold whose
  LFs behave otherwise than on the training items can teach a text model less than plain votes do), feature
  set and strength (FEATURE_GRID x C_GRID), the simpler winning ties within one held-out item's worth of
  score; then, for the winner's source and feature set, **hard targets** at every strength (each training
  item once, as the answer its probabilities give: where an aggregator spreads every item's probability
  over the classes alike, soft targets teach the classifier that spread, and held-out gold can say that the
  answers teach it better; on WRENCH semeval they did, 0.623 to 0.668 macro F1 on valid gold), chosen only
  where they beat the soft winner by more than one held-out item's worth; selection fits use at most
  SELECTION_TRAIN_LIMIT training items. The chosen configuration is then refitted on the training items and
  the held-out gold;
- **who answers, per region** (the items no LF covers, and the covered ones): the aggregator, the end model,
  or both together (their product of experts: each class's probability under the one times under the other,
  normalised; the aggregator's votes and the text classifier are two views of an item, and where each is
  right more often than not, the classes they agree on gain). Held-out gold decides, on the selection
  metric, among the region's held-out items (at least MIN_FILL_EVIDENCE of them), the simpler answer
  winning unless a more complex one beats it by more than one held-out item's worth of score, in the order
  aggregator, end model, both. The decisions and their figures are reported (`metrics.end_model.fill` and
  `.override`), and the delivered weak labels (`splits.<split>.weak_label`, snapshots) follow them.

Its probabilities for every item are stored in a file of their own (with the probabilities the delivered weak
labels take where the end model answers, alone or with the aggregator) and scored on each split's truth
labels.
"""

from __future__ import annotations

import io
import logging
import time
import traceback
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import transaction
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from core.storage import storage_write
from features.choices import FeatureKind
from features.classifiers import CompactLogisticRegression, hash_uniform
from features.encoders import encoder_available
from features.selectors import project_extra_feature_sets
from features.services.cache import (
    BlockPlan,
    block_features,
    features_get,
    features_plan,
    features_refresh,
    hstack_features,
    idf_compute,
    primary_blocks,
    stored_kinds,
)
from features.vectors import Matrix
from labeling.selectors.gold import gold_label_sets_usable, truth_label_sets
from projects.models import Project
from weak_supervision.aggregators import (
    CV_FOLDS,
    MIN_CV_GOLD,
    MIN_HELDOUT,
    SELECTION_METRIC,
    fold_of,
    scores,
    vote_counts,
)
from weak_supervision.choices import EndModelStatus, RunStatus
from weak_supervision.models import LabelModelRun
from weak_supervision.selectors import run_probabilities_get
from weak_supervision.services.guardrails import run_warnings
from weak_supervision.services.label_model import gold_column, split_labels_reported, truth_column
from weak_supervision.services.multi_label import THRESHOLD as MULTI_LABEL_THRESHOLD
from weak_supervision.services.multi_label import label_sets_column, multi_label_scores
from weak_supervision.services.outputs import end_model_labels_store
from weak_supervision.services.runs import run_matrix_coded
from weak_supervision.ties import TIE_ITEMS, predictions, simplest_within_tie

logger = logging.getLogger("oversight.weak_supervision")

END_MODEL_TRAIN_LIMIT = 100_000
SELECTION_TRAIN_LIMIT = 20_000
MIN_TRAIN = 10
MIN_FILL_EVIDENCE = 10
SOFT_LABEL_FLOOR = 0.01  # class probabilities below this are not trained on
C_GRID = (0.1, 1.0, 10.0, 100.0)
# Simplest first: a tie goes to the earlier one.
FEATURE_GRID = (FeatureKind.STATIC, FeatureKind.HYBRID)
AGGREGATOR = "aggregator"
MAJORITY_VOTE = "majority_vote"
SKIP_NO_PROBABILITIES = "the run stored no probabilistic labels"
SKIP_TOO_FEW = f"fewer than {MIN_TRAIN} covered training items with at least two classes"
SOFT = "soft"
HARD = "hard"


def end_model_features_missing(*, run: LabelModelRun) -> list[BlockPlan]:
    """The feature blocks the end model needs that no worker has built yet (each a task of its own)."""
    if run.status != RunStatus.SUCCEEDED:
        return []
    parts = dict.fromkeys(part for kind in _feature_grid(run.project) for part in stored_kinds(kind))
    return [plan for part in parts for plan in features_plan(project=run.project, kind=part)]


def end_model_path(run: LabelModelRun) -> str:
    return f"weak_supervision/runs/{run.project_id}/{run.pk}/end_model.npz"


def _feature_grid(project: Project) -> tuple[str, ...]:
    """The feature sets the end model's selection compares, simplest first."""
    if not encoder_available():
        return (FeatureKind.HASHED_TFIDF,)
    return FEATURE_GRID + project_extra_feature_sets(project=project)


@dataclass
class _Data:
    """Everything the end model reads, row-aligned with the run's item ids."""

    ids: npt.NDArray[np.int64]
    probabilities: npt.NDArray[np.float32]  # the chosen aggregator's
    aggregator: str  # its name
    vote_shares: npt.NDArray[np.float64]  # majority vote's soft labels: each class's share of the votes
    covered: npt.NDArray[np.bool_]
    splits: npt.NDArray[np.str_]
    usable: npt.NDArray[np.int64]  # usable gold class or -1 (multi-label: 0 where the item has usable gold)
    truth: npt.NDArray[np.int64]  # truth class or -1, scores only (multi-label: 0 where it has truth)
    multi_label: bool = False
    usable_sets: npt.NDArray[np.bool_] | None = None  # multi-label: items x labels
    truth_sets: npt.NDArray[np.bool_] | None = None


# An answer per item: a class index (single-label) or a row of yes/no per label (multi-label).
Answers = npt.NDArray[Any]


def _gold_of(data: _Data, rows: npt.NDArray[np.int64], *, truth: bool = False) -> Answers:
    if data.multi_label:
        sets = data.truth_sets if truth else data.usable_sets
        assert sets is not None
        return sets[rows]
    return (data.truth if truth else data.usable)[rows]


def _answers(data: _Data, probabilities: npt.NDArray[Any], rows: npt.NDArray[np.int64]) -> Answers:
    """The answers probabilities give: the top class (ties by the items' coin), or each label at 0.5 or more."""
    if data.multi_label:
        return np.asarray(probabilities >= MULTI_LABEL_THRESHOLD, dtype=bool)
    return predictions(np.asarray(probabilities, dtype=np.float64), data.ids[rows])


def _score(data: _Data, truth: Answers, answers: Answers, labels: list[str]) -> dict[str, Any]:
    return multi_label_scores(truth, answers, labels) if data.multi_label else scores(truth, answers, labels)


def _record(
    run: LabelModelRun, entry: dict[str, Any], split_scores: dict[str, Any] | None = None,
    delivered: Answers | None = None, data: _Data | None = None,
) -> None:  # fmt: skip
    """Stores the end model's status, its scores per split and, where it fills uncovered items, the delivered
    weak labels' new scores, distribution and warnings, under a row lock."""
    with transaction.atomic():
        locked = LabelModelRun.objects.select_for_update().get(pk=run.pk)
        metrics = dict(locked.metrics or {})
        metrics["end_model"] = entry
        splits = metrics.get("splits", {})
        for name, found in (split_scores or {}).items():
            if name in splits:
                splits[name]["end_model"] = found
        if delivered is not None and data is not None:
            for name, entry_ in splits.items():
                scored = np.flatnonzero((data.splits == name) & (data.truth >= 0))
                if len(scored):
                    truth = _gold_of(data, scored, truth=True)
                    entry_["weak_label"] = _score(data, truth, delivered[scored], run.labels)
            counts = (
                delivered.sum(axis=0)
                if data.multi_label
                else np.bincount(delivered, minlength=len(run.labels))
            )
            metrics["label_distribution"] = {
                label: int(count) for label, count in zip(run.labels, counts, strict=True) if count
            }
        metrics["warnings"] = run_warnings(metrics=metrics, labels=run.labels, lf_analysis=locked.lf_analysis)
        LabelModelRun.objects.filter(pk=run.pk).update(metrics=metrics)
    run.refresh_from_db()


def _soft_rows(
    x: Matrix, targets: npt.NDArray[np.float64]
) -> tuple[Matrix, npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Soft labels as weighted rows: each item once per class it has at least SOFT_LABEL_FLOOR of."""
    rows, classes = np.nonzero(targets >= SOFT_LABEL_FLOOR)
    return x[rows], classes.astype(np.int64), targets[rows, classes].astype(np.float64)


def _fit(x: Matrix, targets: npt.NDArray[np.float64], c: float) -> LogisticRegression | None:
    xs, ys, weights = _soft_rows(x, targets)
    if len(np.unique(ys)) < 2:
        return None
    model = CompactLogisticRegression(C=c, max_iter=1000)
    with threadpool_limits(limits=1), warnings.catch_warnings():  # L-BFGS on one thread is faster here
        warnings.simplefilter("ignore")
        model.fit(xs, ys, sample_weight=weights)
    return model


class _PerLabel:
    """Multi-label: one yes/no classifier per label (a constant where the training labels are all one way)."""

    def __init__(self, models: list[LogisticRegression | float]) -> None:
        self.models = models

    def predict_proba(self, x: Matrix) -> npt.NDArray[np.float64]:
        result = np.zeros((x.shape[0], len(self.models)), dtype=np.float64)
        for label, model in enumerate(self.models):
            result[:, label] = model if isinstance(model, float) else _proba(model, x, 2)[:, 1]
        return result


def _fit_model(
    data: _Data, x: Matrix, targets: npt.NDArray[np.float64], c: float
) -> LogisticRegression | _PerLabel | None:
    if not data.multi_label:
        return _fit(x, targets, c)
    models: list[LogisticRegression | float] = []
    for label in range(targets.shape[1]):
        present = targets[:, label]
        model = _fit(x, np.column_stack([1.0 - present, present]), c)
        models.append(model if model is not None else float(np.mean(present)))
    return _PerLabel(models)


def _proba(model: LogisticRegression | _PerLabel, x: Matrix, k: int) -> npt.NDArray[np.float64]:
    if isinstance(model, _PerLabel):
        return model.predict_proba(x)
    result = np.zeros((x.shape[0], k), dtype=np.float64)
    result[:, np.asarray(model.classes_, dtype=np.int64)] = model.predict_proba(x)
    return result


def _metric(data: _Data, truth: Answers, answers: Answers, labels: list[str]) -> float:
    return float(_score(data, truth, answers, labels)[SELECTION_METRIC])


def _draw(
    rows: npt.NDArray[np.int64], ids: npt.NDArray[np.int64], limit: int, seed: str
) -> npt.NDArray[np.int64]:
    if len(rows) <= limit:
        return rows
    return np.sort(rows[np.argsort(hash_uniform(ids[rows], seed))[:limit]])


@dataclass
class _Choice:
    source: str  # whose labels it trains on: "aggregator" or "majority_vote"
    features: str
    c: float
    selected_on: str
    scores: dict[str, float]
    heldout_rows: npt.NDArray[np.int64]  # rows of the held-out gold items
    heldout_proba: npt.NDArray[np.float64]  # the chosen config's held-out (out-of-fold) probabilities on them
    targets: str = SOFT  # how it reads them: the probabilities (soft) or each item's answer (hard)

    @property
    def key(self) -> str:
        return _config_name((self.source, self.features, self.c, self.targets))


# (label source, feature set, C, targets)
Config = tuple[str, str, float, str]


def _config_name(config: Config) -> str:
    source, kind, c, targets = config
    return f"{source}{'' if targets == SOFT else '/' + targets}:{kind}:C={c:g}"


def _targets(
    data: _Data, rows: npt.NDArray[np.int64], k: int, source: str, form: str = SOFT
) -> npt.NDArray[np.float64]:
    """Gold items: their gold label; the others: the chosen aggregator's probabilities (or majority vote's),
    or with hard targets the answer they give (the top class, ties by the items' coin; multi-label: each label
    at MULTI_LABEL_THRESHOLD or more)."""
    probabilities = data.probabilities if source == AGGREGATOR else data.vote_shares
    targets = probabilities[rows].astype(np.float64)
    if form == HARD:
        answered = _answers(data, targets, rows)
        targets = answered.astype(np.float64) if data.multi_label else np.eye(k)[answered]
    gold = data.usable[rows] >= 0
    if data.multi_label:
        targets[gold] = _gold_of(data, rows[gold]).astype(np.float64)
    else:
        targets[gold] = np.eye(k)[data.usable[rows][gold]]
    return targets


def _grid(data: _Data, kinds: tuple[str, ...]) -> list[Config]:
    """Simplest first: the chosen aggregator's labels before majority vote's (when they differ), static
    features before hybrid (before hybrid with the metadata fields), the strongest regularisation (smallest
    C) first."""
    other = data.aggregator != MAJORITY_VOTE and not data.multi_label
    sources = [AGGREGATOR] + ([MAJORITY_VOTE] if other else [])
    return [(source, kind, c, SOFT) for source in sources for kind in kinds for c in sorted(C_GRID)]


def _select(
    run: LabelModelRun, data: _Data, train: npt.NDArray[np.bool_], present: npt.NDArray[np.bool_],
    x_of: dict[str, Any], k: int,
) -> _Choice:  # fmt: skip
    """The label source, feature set, strength and targets that score best on held-out usable gold (see the
    module's docstring): first every source, feature set and strength on soft targets, then the winner's
    source and feature set on hard targets at every strength."""
    labels = run.labels
    gold = (data.usable >= 0) & present
    valid_gold = np.flatnonzero(gold & (data.splits == "valid"))
    seed = f"end-model-select:{run.project_id}"
    everything = np.arange(len(data.ids))
    if len(valid_gold) >= MIN_HELDOUT:
        selected_on, held = "valid", valid_gold
        folds = np.zeros(len(held), dtype=np.int64)
    elif int(gold.sum()) >= MIN_CV_GOLD:
        selected_on, held = "cross_validation", np.flatnonzero(gold)
        folds = fold_of(data.ids[held], CV_FOLDS)
    else:
        selected_on, held, folds = "default", np.zeros(0, np.int64), np.zeros(0, np.int64)
    # The training draw of each fold: the training items but the fold's held-out ones.
    draws = {
        int(fold): _draw(
            np.flatnonzero(train & ~np.isin(everything, held[folds == fold])), data.ids, SELECTION_TRAIN_LIMIT, seed
        )
        for fold in np.unique(folds)
    }  # fmt: skip
    probabilities: dict[Config, npt.NDArray[np.float64]] = {}
    found: dict[str, float] = {}

    def heldout(configs: list[Config]) -> None:
        for config in configs:
            source, kind, c, form = config
            predicted = np.zeros((len(held), k), dtype=np.float64)
            answered = False
            for fold, rows in draws.items():
                model = _fit_model(data, x_of[kind](rows), _targets(data, rows, k, source, form), c)
                if model is not None:
                    out = folds == fold
                    predicted[out] = _proba(model, x_of[kind](held[out]), k)
                    answered = True
            if answered:
                probabilities[config] = predicted
                answers = _answers(data, predicted, held)
                found[_config_name(config)] = round(_metric(data, _gold_of(data, held), answers, labels), 4)

    def best(order: list[Config]) -> Config | None:
        return simplest_within_tie(
            {config: found[_config_name(config)] for config in order if config in probabilities},
            order,
            len(held),
        )

    grid = _grid(data, tuple(x_of))
    heldout(grid)
    chosen = best(grid)
    if chosen is None:
        return _Choice(AGGREGATOR, tuple(x_of)[-1], 1.0, selected_on, found, np.zeros(0, np.int64),
                       np.zeros((0, k), np.float64))  # fmt: skip
    source, kind, _, _ = chosen
    hard = [(source, kind, c, HARD) for c in sorted(C_GRID)]
    heldout(hard)
    chosen = best([chosen, *hard])
    assert chosen is not None
    source, kind, c, form = chosen
    return _Choice(source, kind, c, selected_on, found, held, probabilities[chosen], form)


def combined(
    end: npt.NDArray[Any], aggregator: npt.NDArray[Any], *, multi_label: bool
) -> npt.NDArray[np.float64]:
    """The end model and the aggregator together: the product of their probabilities, normalised per class
    (single-label) or per label's yes and no (multi-label)."""
    end = np.clip(np.asarray(end, dtype=np.float64), 1e-6, 1.0)
    aggregator = np.clip(np.asarray(aggregator, dtype=np.float64), 1e-6, 1.0)
    if multi_label:
        yes = end * aggregator
        no = np.clip(1.0 - end, 1e-6, 1.0) * np.clip(1.0 - aggregator, 1e-6, 1.0)
        return np.asarray(yes / (yes + no), dtype=np.float64)
    product = end * aggregator
    return np.asarray(product / product.sum(axis=1, keepdims=True), dtype=np.float64)


# Who may answer for a region, simplest first.
ANSWERED_BY = (AGGREGATOR, "end_model", "combined")


def _region_decision(data: _Data, choice: _Choice, labels: list[str], covered: bool) -> dict[str, Any]:
    """Who answers for the uncovered (or the covered) items: the aggregator, the end model or both together,
    as held-out gold on such items says (see the module's docstring). The aggregator's probabilities on the
    held-out items may have seen their gold (it is refitted on all usable gold), which can only favour it and
    the combination over the end model alone."""
    held = choice.heldout_rows
    region = data.covered[held] == covered
    n = int(region.sum())
    decision: dict[str, Any] = {"n_heldout": n, "metric": SELECTION_METRIC, "answered_by": AGGREGATOR}
    where = "covered" if covered else "uncovered"
    if n < MIN_FILL_EVIDENCE:
        decision.update(takes=False, combines=False, reason=(
            f"{n} held-out gold item(s) are {where}; at least {MIN_FILL_EVIDENCE} are needed to show that the "
            "end model beats the aggregator there"
        ))  # fmt: skip
        return decision
    rows = held[region]
    truth = _gold_of(data, rows)
    end_proba = choice.heldout_proba[region]
    aggregator_proba = data.probabilities[rows]
    found = {
        AGGREGATOR: _metric(data, truth, _answers(data, aggregator_proba, rows), labels),
        "end_model": _metric(data, truth, _answers(data, end_proba, rows), labels),
        "combined": _metric(
            data,
            truth,
            _answers(data, combined(end_proba, aggregator_proba, multi_label=data.multi_label), rows),
            labels,
        ),
    }
    chosen = AGGREGATOR
    for name in ANSWERED_BY[1:]:
        if found[name] > found[chosen] + TIE_ITEMS / n:
            chosen = name
    answer = {AGGREGATOR: "the aggregator answers alone", "end_model": "the end model answers",
              "combined": "the end model and the aggregator answer together"}[chosen]  # fmt: skip
    decision.update(
        takes=chosen != AGGREGATOR,
        combines=chosen == "combined",
        answered_by=chosen,
        end_model=round(found["end_model"], 4),
        aggregator=round(found[AGGREGATOR], 4),
        combined=round(found["combined"], 4),
        reason=f"on held-out {where} gold, {answer}",
    )
    return decision


def _predict_all(
    run: LabelModelRun, model: LogisticRegression | _PerLabel, kind: str, idf: npt.NDArray[np.float32] | None,
    ids: npt.NDArray[np.int64], k: int,
) -> npt.NDArray[np.float32]:  # fmt: skip
    """The classifier's probabilities for every item of the run, a feature block at a time."""
    result = np.zeros((len(ids), k), dtype=np.float32)
    for block in primary_blocks(project=run.project, kind=kind):
        block_ids, x = block_features(project=run.project, kind=kind, block=block, idf=idf)
        positions = np.searchsorted(ids, block_ids)
        inside = (positions < len(ids)) & (ids[np.minimum(positions, len(ids) - 1)] == block_ids)
        if inside.any():
            result[positions[inside]] = _proba(model, x[np.flatnonzero(inside)], k)
    return result


def _load(run: LabelModelRun) -> _Data | None:
    loaded = run_probabilities_get(run=run)
    if loaded is None:
        return None
    ids, probabilities, covered = loaded
    # The chunk files carry the votes and the splits, in the same rows as `ids`.
    _, matrix, split_codes, split_labels = run_matrix_coded(run)
    splits = np.asarray(split_labels_reported(split_labels), dtype="U8")[split_codes]
    errors = (run.metrics or {}).get("lf_errors") or {}
    for column, lf in enumerate(run.lf_versions):  # a failed LF abstained in the run: here too
        if str(lf["lf"]) in errors:
            matrix[:, column] = -1
    counts = vote_counts(matrix, len(run.labels))
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    aggregator = str(((run.metrics or {}).get("aggregator") or {}).get("name", MAJORITY_VOTE))
    if run.project.multi_label:
        usable_sets, has_usable = label_sets_column(run, ids, gold_label_sets_usable)
        truth_sets, has_truth = label_sets_column(run, ids, truth_label_sets)
        return _Data(ids=ids, probabilities=probabilities, aggregator=aggregator, vote_shares=shares,
                     covered=covered, splits=splits, usable=np.where(has_usable, 0, -1),
                     truth=np.where(has_truth, 0, -1), multi_label=True, usable_sets=usable_sets,
                     truth_sets=truth_sets)  # fmt: skip
    return _Data(ids=ids, probabilities=probabilities, aggregator=aggregator, vote_shares=shares, covered=covered,
                 splits=splits, usable=gold_column(run, ids), truth=truth_column(run, ids))  # fmt: skip


def end_model_fit(*, run: LabelModelRun) -> LabelModelRun:
    """Trains the end model on a finished run's delivered labels, chooses it on held-out gold, scores it,
    decides whether it fills the uncovered items, and stores its probabilities."""
    if run.status != RunStatus.SUCCEEDED:
        return run
    started = time.perf_counter()
    try:
        data = _load(run)
        if data is None:
            _record(run, {"status": EndModelStatus.SKIPPED, "reason": SKIP_NO_PROBABILITIES})
            return run
        k = len(run.labels)
        # The test split only scores; the train split trains where the project has one.
        has_train = bool((data.splits == "train").any())
        pool = (data.splits == "train") if has_train else (data.splits != "test")
        train = pool & (data.covered | (data.usable >= 0))
        trainable = np.flatnonzero(train)
        answers = _answers(data, data.probabilities[trainable], trainable)
        if (
            len(trainable) < MIN_TRAIN
            or len(np.unique(answers if not data.multi_label else answers.sum(0))) < 2
        ):
            _record(run, {"status": EndModelStatus.SKIPPED, "reason": SKIP_TOO_FEW})
            return run
        kinds = _feature_grid(run.project)
        parts = tuple(dict.fromkeys(part for kind in kinds for part in stored_kinds(kind)))
        idf: dict[str, npt.NDArray[np.float32] | None] = {}
        for part in parts:
            features_refresh(project=run.project, kind=part)
            idf[part] = idf_compute(project=run.project, kind=part)
        featured = time.perf_counter()
        # At most END_MODEL_TRAIN_LIMIT training items (an even draw, the same every time), and the usable
        # gold (held out for the choice): only their features are read into memory, each stored part once
        # (a feature set's parts are put side by side for the rows a fit reads).
        drawn = _draw(np.flatnonzero(train), data.ids, END_MODEL_TRAIN_LIMIT, f"end-model:{run.project_id}")
        train = np.zeros(len(data.ids), dtype=bool)
        train[drawn] = True
        gold_rows = _draw(np.flatnonzero(data.usable >= 0), data.ids, END_MODEL_TRAIN_LIMIT, "end-model-gold")
        wanted = np.union1d(drawn, gold_rows)
        cache: dict[str, tuple[npt.NDArray[np.int64], Matrix | None]] = {
            part: features_get(
                project=run.project, kind=part, item_ids=data.ids[wanted].tolist(), idf=idf[part]
            )
            for part in parts
        }
        # Items the cache does not hold (none, unless one was added meanwhile) are left out.
        held_ids = cache[parts[0]][0]
        for part in parts[1:]:
            held_ids = np.intersect1d(held_ids, cache[part][0])
        present = np.isin(data.ids, held_ids)
        train &= present

        def rows_of(kind: str) -> Any:
            def read(rows: npt.NDArray[np.int64]) -> Matrix | None:
                found = []
                for part in stored_kinds(kind):
                    ids_, x = cache[part]
                    if x is None:
                        return None
                    found.append(x[np.searchsorted(ids_, data.ids[rows])])
                return hstack_features(found)

            return read

        x_of = {kind: rows_of(kind) for kind in kinds}
        choice = _select(run, data, train, present, x_of, k)
        # Once chosen, the model is refitted with the held-out gold too (their figures above were out of sample).
        rows = np.union1d(np.flatnonzero(train), choice.heldout_rows)
        model = _fit_model(
            data,
            x_of[choice.features](rows),
            _targets(data, rows, k, choice.source, choice.targets),
            choice.c,
        )
        if model is None:
            _record(run, {"status": EndModelStatus.SKIPPED, "reason": SKIP_TOO_FEW})
            return run
        trained = time.perf_counter()
        predicted = _predict_all(run, model, choice.features, idf.get(FeatureKind.HASHED_TFIDF), data.ids, k)
        everything = np.arange(len(data.ids))
        end_pred = _answers(data, predicted, everything)
        aggregator_pred = _answers(data, data.probabilities, everything)
        split_scores = {}
        for name in sorted(set(data.splits.tolist())):
            scored = np.flatnonzero((data.splits == name) & (data.truth >= 0))
            if len(scored):
                truth = _gold_of(data, scored, truth=True)
                split_scores[name] = _score(data, truth, end_pred[scored], run.labels)
        fill = _region_decision(data, choice, run.labels, covered=False)
        override = _region_decision(data, choice, run.labels, covered=True)
        delivered = None
        # What the delivered weak labels read where the end model answers, alone or with the aggregator.
        taken = np.asarray(data.probabilities, dtype=np.float32).copy()
        if fill["takes"] or override["takes"]:
            takes = np.where(data.covered, override["takes"], fill["takes"])
            combines = np.where(data.covered, override["combines"], fill["combines"])
            both = combined(predicted, data.probabilities, multi_label=data.multi_label).astype(np.float32)
            taken = np.where(combines[:, None], both, np.where(takes[:, None], predicted, taken))
            delivered = np.where(
                takes[:, None] if data.multi_label else takes,
                _answers(data, taken, everything),
                aggregator_pred,
            )
        path = end_model_path(run)
        buffer = io.BytesIO()
        np.savez(buffer, ids=data.ids, probabilities=predicted, delivered=taken)
        storage_write(path, buffer.getvalue())
        entry = {
            "status": EndModelStatus.SUCCEEDED, "path": path, "n_train": len(rows), "features": choice.features,
            "C": choice.c, "labels_from": choice.source, "targets": choice.targets,
            "selected_on": choice.selected_on, "scores": choice.scores,
            "fills_uncovered": fill["takes"], "overrides_covered": override["takes"], "fill": fill,
            "override": override, "seconds": round(time.perf_counter() - started, 2),
            "seconds_by_step": {"features": round(featured - started, 2), "train": round(trained - featured, 2),
                                "predict": round(time.perf_counter() - trained, 2)},
        }  # fmt: skip
        _record(run, entry, split_scores, delivered, data)
    except Exception:
        _record(run, {"status": EndModelStatus.FAILED, "error": traceback.format_exc()[-4000:]})
        raise
    end_model_labels_store(run=run)
    return run
