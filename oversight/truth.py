"""Truth inference: one probabilistic model over every source that answers for an item (annotators, labeling
functions, models), which learns how far to trust each source on each class from the data itself.

The model is Dawid and Skene's (1979): each item has one true class, drawn from a class prior; each source
answers according to its own class-conditional confusion matrix (row: the true class, column: the answer).
EM alternates between the items' posteriors (E) and the sources' confusion matrices and the prior (M).
Everything is vectorised over a sparse answer matrix (items x (source, answer)), so one iteration over a
million items with thirteen million answers is two sparse products with k columns.

On purpose:
- **abstains** are not answers: a source that did not answer an item gives no evidence about it;
- **smoothing** (empirical Bayes): an annotator's or a model's confusion matrix is pulled towards its own
  one-coin matrix (one accuracy, errors spread evenly; that accuracy itself pulled towards all sources' pooled
  accuracy by SHRINK_ITEMS pseudo-items per class) by COIN_ITEMS_PER_CELL pseudo-answers per cell, so that
  class-specific behaviour counts only where the data show it and a source seen on few items of a class is
  not pushed to 0 or 1 (without it, EM on real crowd data invents a class, e.g. the 'I can't tell' answers of
  the weather-sentiment set); a labeling function's matrix (with its silence column) is pulled towards the
  pooled matrix of all LFs by SHRINK_ITEMS pseudo-items per row;
- **one coin** for sparse sources: a source with fewer than two answers per free parameter of its confusion
  matrix (2 k (k - 1)) gets one accuracy and errors spread evenly (the one-coin model), smoothed the same way;
- **fixed items** (usable gold: adjudicated or known answers, never the test split's or evaluation-only
  labels) keep their class as a one-hot posterior in every iteration, and teach the sources through it;
- **items no source answered** get the class prior;
- **ties** in the posterior go to the lower class index (`numpy.argmax`);
- it starts from the soft majority vote of all sources and is deterministic: the same answers give the same
  posteriors, so a rerun after a crash reproduces them exactly.

The variant used (`dawid_skene`, `one_coin` for every source, or plain `majority_vote`) is chosen by held-out
gold where a project has enough of it (`variant_select`): gold items are split into folds, each fold's gold is
left free while the others are held fixed, and the variant whose posteriors score best on the held-out folds
wins; a more complex variant must beat a simpler one by more than TIE_ITEMS held-out items. With too little
gold, Dawid-Skene with the smoothing above is the default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse, stats

ENGINE = "dawid_skene"
ENGINE_VERSION = "1"
VARIANTS = ("majority_vote", "one_coin", "dawid_skene")  # simplest first

MAX_ITERATIONS = 100
TOLERANCE = 1e-5  # the largest change of any posterior between two iterations that counts as converged
SHRINK_ITEMS = 2.0  # pseudo-items per confusion row, spread as the pooled confusion
PARAMETER_ANSWERS = 2  # answers per free confusion parameter a source needs for its own full matrix
COIN_ITEMS_PER_CELL = 2.0  # the prior pulling a full matrix towards the source's one-coin matrix
MIN_SELECT_GOLD = 30  # gold items below which no variant is chosen by held-out evidence
SELECT_FOLDS = 3
TIE_ITEMS = 1.0  # a more complex variant must win by more than this many held-out items
INTERVAL = 0.95

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Answers:
    """Every answer as three parallel arrays: the item's row, the source's index and the class answered.

    `silent_answers[s]` says whether source s's silence is itself an answer: a labeling function looks at every
    item and abstains on purpose, so its abstains are an extra column of its confusion matrix (a one-sided
    LF's information is in when it fires); an annotator or a model that did not see an item says nothing.
    """

    item: Ints
    source: Ints
    answer: Ints
    n_items: int
    n_sources: int
    k: int
    silent_answers: npt.NDArray[np.bool_] | None = None

    @classmethod
    def of(
        cls,
        item: Sequence[int] | Ints,
        source: Sequence[int] | Ints,
        answer: Sequence[int] | Ints,
        *,
        n_items: int,
        n_sources: int,
        k: int,
        silent_answers: Sequence[bool] | npt.NDArray[np.bool_] | None = None,
    ) -> Answers:
        return cls(
            np.asarray(item, dtype=np.int64),
            np.asarray(source, dtype=np.int64),
            np.asarray(answer, dtype=np.int64),
            n_items,
            n_sources,
            k,
            None if silent_answers is None else np.asarray(silent_answers, dtype=np.bool_),
        )

    def silent(self) -> npt.NDArray[np.bool_]:
        if self.silent_answers is None:
            return np.zeros(self.n_sources, dtype=np.bool_)
        return np.asarray(self.silent_answers, dtype=np.bool_)

    def matrix(self) -> sparse.csr_matrix:
        """items x (source * k + answer), the count of each answer."""
        data = np.ones(len(self.item), dtype=np.float64)
        return sparse.csr_matrix(
            (data, (self.item, self.source * self.k + self.answer)),
            shape=(self.n_items, self.n_sources * self.k),
        )

    def answered(self) -> Ints:
        """How many answers each source gave."""
        return np.bincount(self.source, minlength=self.n_sources).astype(np.int64)

    def subset(self, keep: npt.NDArray[np.bool_]) -> Answers:
        return Answers(
            self.item[keep],
            self.source[keep],
            self.answer[keep],
            self.n_items,
            self.n_sources,
            self.k,
            self.silent_answers,
        )


@dataclass(frozen=True)
class Inference:
    """The fitted model: posteriors per item, the prior, and each source's confusion matrix."""

    variant: str
    posteriors: Floats  # (n_items, k)
    prior: Floats  # (k,)
    confusion: Floats  # (n_sources, k, k + 1): row the true class, column the answer, the last one silence
    counts: Floats  # (n_sources, k, k + 1): expected answers per true class, before smoothing
    one_coin: npt.NDArray[np.bool_]  # (n_sources,)
    iterations: int
    converged: bool
    log_likelihood: float

    def labels(self) -> Ints:
        return np.asarray(np.argmax(self.posteriors, axis=1), dtype=np.int64)


def _fix(posteriors: Floats, fixed_rows: Ints, fixed_classes: Ints) -> None:
    if len(fixed_rows):
        posteriors[fixed_rows] = 0.0
        posteriors[fixed_rows, fixed_classes] = 1.0


def vote_shares(answers: Answers, matrix: sparse.csr_matrix | None = None) -> Floats:
    """Each item's share of the votes per class (uniform where nobody answered)."""
    a = answers.matrix() if matrix is None else matrix
    fold = sparse.csr_matrix(np.tile(np.eye(answers.k), (answers.n_sources, 1)))
    votes = np.asarray((a @ fold).todense(), dtype=np.float64)
    totals = votes.sum(axis=1, keepdims=True)
    empty = totals[:, 0] == 0
    votes[empty] = 1.0
    totals[empty] = answers.k
    return np.asarray(votes / totals, dtype=np.float64)


def _smoothed(counts: Floats, columns: int) -> Floats:
    """Each row of each source's counts plus SHRINK_ITEMS pseudo-items spread as the pooled rows of all the
    sources given (empirical Bayes), over the first `columns` columns; the rest stay 0."""
    pooled = counts[:, :, :columns].sum(axis=0) + 1.0 / columns  # a whisker of uniform: no empty row
    pooled /= pooled.sum(axis=1, keepdims=True)
    full = counts[:, :, :columns] + SHRINK_ITEMS * pooled
    out = np.zeros_like(counts)
    out[:, :, :columns] = full / full.sum(axis=2, keepdims=True)
    return out


def _one_coin(counts: Floats, k: int) -> Floats:
    """One accuracy per source, its errors spread evenly, smoothed towards the pooled accuracy."""
    pooled = counts[:, :, :k].sum(axis=0) + 1.0 / k
    pooled_accuracy = float(np.trace(pooled) / pooled.sum())
    correct = np.trace(counts[:, :, :k], axis1=1, axis2=2) + SHRINK_ITEMS * k * pooled_accuracy
    total = counts[:, :, :k].sum(axis=(1, 2)) + SHRINK_ITEMS * k
    accuracy = correct / total
    out = np.zeros_like(counts)
    out[:, :, :k] = ((1.0 - accuracy) / (k - 1))[:, None, None]
    out[:, np.arange(k), np.arange(k)] = accuracy[:, None]
    return out


def _confusions(
    counts: Floats, one_coin: npt.NDArray[np.bool_], silent: npt.NDArray[np.bool_], k: int
) -> Floats:
    confusion = np.zeros_like(counts)
    if silent.any():
        confusion[silent] = _smoothed(counts[silent], k + 1)
    talking = ~silent
    if talking.any() and k > 1:
        # Each source's full matrix is pulled towards its own one-coin matrix by COIN_ITEMS_PER_CELL pseudo-answers
        # per cell (a Dirichlet prior centred on it): class-specific behaviour must show in the data to count.
        coin = _one_coin(counts[talking], k)
        full = counts[talking, :, :k] + COIN_ITEMS_PER_CELL * k * coin[:, :, :k]
        confusion[talking, :, :k] = full / full.sum(axis=2, keepdims=True)
        sparse_sources = one_coin & talking
        if sparse_sources.any():
            confusion[sparse_sources] = _one_coin(counts[sparse_sources], k)
    elif talking.any():
        confusion[talking, :, :k] = 1.0
    return confusion


def infer(
    answers: Answers,
    *,
    fixed_rows: Ints | None = None,
    fixed_classes: Ints | None = None,
    variant: str = "dawid_skene",
    max_iterations: int = MAX_ITERATIONS,
    tolerance: float = TOLERANCE,
) -> Inference:
    """Fit the model by EM. `fixed_rows` (item rows) keep `fixed_classes` as their true class."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")
    k, n, s = answers.k, answers.n_items, answers.n_sources
    rows = np.zeros(0, dtype=np.int64) if fixed_rows is None else np.asarray(fixed_rows, dtype=np.int64)
    classes = np.zeros(0, dtype=np.int64) if fixed_classes is None else np.asarray(fixed_classes, np.int64)
    silent = answers.silent()
    a = answers.matrix()
    at = a.T.tocsr()
    posteriors = vote_shares(answers, a)
    _fix(posteriors, rows, classes)
    answered = answers.answered()
    sparse_source = answered < PARAMETER_ANSWERS * k * (k - 1)
    one_coin = ~silent if variant == "one_coin" else sparse_source & ~silent
    free = np.ones(n, dtype=np.bool_)
    free[rows] = False
    has_answers = np.diff(a.indptr) > 0
    if silent.any():
        has_answers[:] = True  # every item has an answer: the silent sources' silence
    iterations, converged, log_likelihood = 0, False, 0.0
    confusion = counts = np.zeros((s, k, k + 1))
    prior = np.full(k, 1.0 / k)
    while iterations < (1 if variant == "majority_vote" else max_iterations):
        iterations += 1
        counts = np.zeros((s, k, k + 1))
        counts[:, :, :k] = np.asarray(at @ posteriors).reshape(s, k, k).transpose(0, 2, 1)
        if silent.any():
            # Silence: every item a silent-answering source did not answer, by true class.
            counts[silent, :, k] = posteriors.sum(axis=0)[None, :] - counts[silent, :, :k].sum(axis=2)
        confusion = _confusions(counts, one_coin, silent, k)
        prior = (posteriors[has_answers].sum(axis=0) + 1.0) / (int(has_answers.sum()) + k)
        if variant == "majority_vote":
            break
        logs = np.log(np.maximum(confusion, 1e-300))
        weights = logs[:, :, :k] - np.where(silent[:, None, None], logs[:, :, k:], 0.0)
        base = np.log(prior) + logs[silent, :, k].sum(axis=0)
        log_joint = np.asarray(a @ weights.transpose(0, 2, 1).reshape(s * k, k)) + base
        top = log_joint.max(axis=1, keepdims=True)
        joint = np.exp(log_joint - top)
        total = joint.sum(axis=1, keepdims=True)
        updated = joint / total
        _fix(updated, rows, classes)
        log_likelihood = float((np.log(total[:, 0]) + top[:, 0])[free & has_answers].sum())
        change = float(np.abs(updated - posteriors).max()) if n else 0.0
        posteriors = updated
        if change < tolerance:
            converged = True
            break
    if variant == "majority_vote":
        converged = True
    if not silent.any():
        posteriors[~has_answers & free] = prior
    return Inference(
        variant, posteriors, prior, confusion, counts, one_coin, iterations, converged, log_likelihood
    )


@dataclass(frozen=True)
class SourceReliability:
    """How far one source can be trusted, as the model estimates it."""

    answered: int
    accuracy: float | None  # the expected share of its answers that are right
    accuracy_interval: tuple[float, float] | None
    class_accuracy: list[float | None]  # P(answer = t | true class t, it answered)
    class_interval: list[tuple[float, float] | None]
    class_items: list[float]  # expected items of each true class it answered
    confusion: list[list[float]]  # P(answer | true class, it answered)
    one_coin: bool


def _beta_interval(hits: float, misses: float) -> tuple[float, float]:
    low, high = stats.beta.ppf([(1 - INTERVAL) / 2, (1 + INTERVAL) / 2], hits + 0.5, misses + 0.5)
    return float(low), float(high)


def source_reliability(answers: Answers, inference: Inference) -> list[SourceReliability]:
    """Each source's estimated accuracy (overall and per true class) with intervals (Beta posteriors of the
    expected counts), and its confusion matrix."""
    k = answers.k
    right = inference.posteriors[answers.item, answers.answer]
    hits = np.bincount(answers.source, weights=right, minlength=answers.n_sources)
    answered = answers.answered()
    out: list[SourceReliability] = []
    for s in range(answers.n_sources):
        n = int(answered[s])
        counts = inference.counts[s, :, :k]
        row_items = counts.sum(axis=1)
        answering = inference.confusion[s, :, :k].sum(axis=1)
        class_accuracy: list[float | None] = []
        class_interval: list[tuple[float, float] | None] = []
        for t in range(k):
            if row_items[t] < 1e-9:
                class_accuracy.append(None)
                class_interval.append(None)
                continue
            class_accuracy.append(float(inference.confusion[s, t, t] / answering[t]))
            class_interval.append(_beta_interval(float(counts[t, t]), float(row_items[t] - counts[t, t])))
        out.append(
            SourceReliability(
                answered=n,
                accuracy=float(hits[s] / n) if n else None,
                accuracy_interval=_beta_interval(float(hits[s]), float(n - hits[s])) if n else None,
                class_accuracy=class_accuracy,
                class_interval=class_interval,
                class_items=[float(v) for v in row_items],
                confusion=[
                    [float(v) for v in row] for row in inference.confusion[s, :, :k] / answering[:, None]
                ],
                one_coin=bool(inference.one_coin[s]),
            )
        )
    return out


@dataclass(frozen=True)
class Selection:
    """Which variant was chosen, how, and each variant's held-out accuracy."""

    variant: str
    method: str  # "held_out_gold" or "default"
    scores: dict[str, float]
    n_heldout: int


def _fold(rows: Ints, folds: int) -> Ints:
    # A fixed draw: the same gold items fall in the same fold on every run (Knuth's multiplicative hash).
    return np.asarray(((rows * 2654435761) % (2**32)) % folds, dtype=np.int64)


def variant_select(answers: Answers, *, fixed_rows: Ints, fixed_classes: Ints) -> Selection:
    """Choose the variant by its accuracy on gold items left free in turn (SELECT_FOLDS folds)."""
    if len(fixed_rows) < MIN_SELECT_GOLD:
        return Selection("dawid_skene", "default", {}, 0)
    # Only gold items some source answered say anything about the sources.
    answered_rows = np.diff(answers.matrix().indptr) > 0
    scored = answered_rows[fixed_rows]
    if int(scored.sum()) < MIN_SELECT_GOLD:
        return Selection("dawid_skene", "default", {}, 0)
    fold = _fold(fixed_rows, SELECT_FOLDS)
    hits = dict.fromkeys(VARIANTS, 0)
    n_heldout = 0
    for f in range(SELECT_FOLDS):
        held = (fold == f) & scored
        if not held.any():
            continue
        kept = fold != f
        n_heldout += int(held.sum())
        for variant in VARIANTS:
            fitted = infer(
                answers, fixed_rows=fixed_rows[kept], fixed_classes=fixed_classes[kept], variant=variant
            )
            predicted = fitted.labels()[fixed_rows[held]]
            hits[variant] += int((predicted == fixed_classes[held]).sum())
    scores = {variant: hits[variant] / n_heldout for variant in VARIANTS}
    best = VARIANTS[0]
    for variant in VARIANTS[1:]:
        if hits[variant] > hits[best] + TIE_ITEMS:
            best = variant
    return Selection(best, "held_out_gold", scores, n_heldout)
