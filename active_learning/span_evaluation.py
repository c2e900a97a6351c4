"""Span projects' active learning, the pure part: held-out span scores, how the tagger's doubt orders the
pool (with the item strategies' safeguards), and the simulator's replay of the loop.

A span project's strategy reads as one of three policies (`span_policy`):
- random: a seeded uniform draw (the baseline);
- adaptive (the default strategy): the most uncertain texts, with the audit share of every batch drawn at
  random from the audit stratum, as the item strategies' adaptive batches are (active_learning.audit). The
  share stays fixed: the audit evidence's test compares item classifiers and is not run for taggers;
- uncertainty (any other strategy): the most uncertain texts only.
Until the tagger can train (no span among the answers yet) every policy draws at random: a cold start
needs no model, and random texts find entities as often as they occur.

Pure: no Django, no database (the bench reads the data itself and calls `span_simulate`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from active_learning.audit import AUDIT_SHARE, AUDIT_STRATUM, audit_draw, batch_compose, batch_sizes
from active_learning.choices import Strategy
from active_learning.evaluation import curve_mean
from active_learning.tagger import Tagged, Tagger, Text, tagger_fit, tagger_predict
from core.span_metrics import span_prf
from core.spans import SpanDict
from features.classifiers import Scores, hash_uniform

SPAN_METRIC = "span_f1"
RANDOM, UNCERTAINTY, ADAPTIVE = "random", "uncertainty", "adaptive"


def span_policy(strategy: str) -> str:
    """The policy a span project's strategy stands for (see the module's docstring)."""
    if strategy == Strategy.RANDOM:
        return RANDOM
    return ADAPTIVE if strategy == Strategy.ADAPTIVE else UNCERTAINTY


def span_scores(
    truth: Sequence[Sequence[SpanDict]], predicted: Sequence[Sequence[SpanDict]]
) -> dict[str, Any]:
    """Exact-match micro precision, recall and F1 of predicted spans (same start, end and type:
    core.span_metrics.span_prf), over texts in the same order, how many texts and true spans were scored."""
    if not len(truth):
        return {"n_heldout": 0}
    micro = span_prf(truth, predicted, match="exact").micro.rounded()
    return {"n_heldout": len(truth), "span_precision": micro.precision, "span_recall": micro.recall,
            SPAN_METRIC: micro.f1, "n_spans": micro.tp + micro.fn}  # fmt: skip


def uncertainty_scores(tagged: Sequence[Tagged]) -> Scores:
    """How unsure the tagger is of each text: 1 - the geometric mean of its decoded tags' probabilities."""
    return np.asarray([result.uncertainty for result in tagged], dtype=np.float64)


def span_batch(
    policy: str, scores: Scores | None, ids: npt.NDArray[np.int64], n: int, key: int | str
) -> npt.NDArray[np.int64]:
    """The rows of the next `n` texts to label: the best `scores` (None before a tagger: a seeded draw),
    and for the adaptive policy its audit share from the audit stratum, in draw order."""
    if policy == RANDOM or scores is None:
        scores = hash_uniform(ids, f"spans:{key}")
    if policy != ADAPTIVE:
        return np.argsort(-scores, kind="stable")[:n].astype(np.int64)
    draw = audit_draw(ids, key)
    stratum = draw < AUDIT_STRATUM
    audit = np.flatnonzero(stratum)
    audit = audit[np.argsort(draw[audit], kind="stable")]
    others = np.flatnonzero(~stratum)
    others = others[np.argsort(-scores[others], kind="stable")]
    n_audit, n_chosen = batch_sizes(n, 1.0 - AUDIT_SHARE, len(audit), len(others))
    return batch_compose(others[:n_chosen], audit[:n_audit])


class SpanData(NamedTuple):
    """Texts (with their token offsets), their true spans, and their item ids."""

    texts: list[Text]
    spans: list[list[SpanDict]]
    ids: npt.NDArray[np.int64]

    def rows(self, rows: npt.NDArray[np.int64]) -> SpanData:
        return SpanData([self.texts[r] for r in rows.tolist()], [self.spans[r] for r in rows.tolist()],
                        self.ids[rows])  # fmt: skip


def _fit_score(
    train: SpanData, test: SpanData, types: Sequence[str], seed: int
) -> tuple[Tagger | None, float]:
    """The tagger of `train` (None before any span) and its span F1 on `test` (0 without a tagger)."""
    tagger = tagger_fit(train.texts, train.spans, types, seed=seed)
    if tagger is None:
        return None, 0.0
    predicted = [result.spans for result in tagger_predict(tagger, test.texts)]
    return tagger, float(span_scores(test.spans, predicted)[SPAN_METRIC])


def _replay(
    policy: str, pool: SpanData, test: SpanData, types: Sequence[str], budget: int, step: int, seed: int
) -> list[tuple[int, float]]:
    """One seed of one policy: label `step` texts, retrain, score on the test texts, until the budget."""
    key = f"sim:{seed}"
    labeled = span_batch(policy, None, pool.ids, step, key)
    curve = []
    while True:
        tagger, score = _fit_score(pool.rows(labeled), test, types, seed)
        curve.append((len(labeled), score))
        if len(labeled) + step > min(budget, len(pool.ids)):
            return curve
        rest = np.setdiff1d(np.arange(len(pool.ids)), labeled)
        scores = None
        if tagger is not None and policy != RANDOM:
            scores = uncertainty_scores(tagger_predict(tagger, [pool.texts[r] for r in rest.tolist()]))
        picked = rest[span_batch(policy, scores, pool.ids[rest], step, f"{key}:{len(labeled)}")]
        if not len(picked):
            return curve
        labeled = np.concatenate([labeled, picked])


def span_simulate(
    *, pool: SpanData, test: SpanData, types: Sequence[str], strategies: Sequence[str], budget: int, step: int,
    seeds: int, progress: Callable[[str, int], None] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Every strategy's learning curve of span F1 on the test texts (mean over seeds), and the labeled
    texts it needs to reach 95% of the tagger trained on the whole pool; shaped as `evaluation.simulate`'s."""
    _, full = _fit_score(pool, test, types, 0)
    result: dict[str, Any] = {"metric": SPAN_METRIC, "full_train": round(full, 4), "strategies": {}}
    for strategy in strategies:
        runs = []
        for seed in range(seeds):
            runs.append(_replay(span_policy(strategy), pool, test, types, budget, step, seed))
            if progress is not None:
                progress(strategy, seed)
        result["strategies"][strategy] = curve_mean(runs, full)
    return result
