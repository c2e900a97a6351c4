"""Aggregators: ways to turn a label matrix (one column per LF, -1 = abstain) into each item's probabilities,
and the choice between them from held-out gold.

Every candidate depends only on an item's row of votes, so each is computed once per distinct vote pattern
(a million items with ten LFs have a few hundred) and fitted on the patterns weighted by their counts:

Candidates, simplest first (a tie goes to the simpler one):
- `majority_vote`: each class's share of the votes; uses no gold;
- `weighted_majority_vote`: votes weighted by each LF's log-odds of being right, from its accuracy on gold
  (shrunk towards all LFs' pooled accuracy), plus the gold class prior: the one-coin naive Bayes posterior;
- `dawid_skene`: Dawid and Skene's EM with a confusion matrix per LF (Dirichlet-smoothed, abstain as a
  response), started from majority vote, gold items held at their label;
- `label_model`: Snorkel's LabelModel (MeTaL), its class balance from gold, its learning rate, epochs and
  L2 chosen on held-out gold;
- `supervised`: logistic regression over the one-hot vote matrix, fitted on gold items (at least
  MIN_SUPERVISED_GOLD), its regularisation chosen on held-out gold.

How a run chooses (`aggregator_select`), from the project's usable gold only (never the test split's or
evaluation-only labels):
- **valid**: when the valid split holds at least MIN_HELDOUT gold items and the other splits at least
  MIN_FIT_GOLD, each candidate is fitted with the gold outside the valid split and scored on the valid split;
- **cross_validation**: otherwise, when at least MIN_CV_GOLD gold items exist, each candidate is fitted
  CV_FOLDS times on the gold outside one fold (a fixed draw by a hash of the item) and scored on the items of
  that fold, out of fold;
- **default**: with less gold, majority vote: it needs no gold, and it is the baseline every other candidate
  must beat on held-out evidence.
The score is the selection metric (`SELECTION_METRIC`: macro F1 over the project's classes, so that a rare
class counts as much as a common one) of the candidates' answers on the held-out items. The best wins, but a
more complex candidate must beat a simpler one by more than TIE_ITEMS held-out items' worth of score
(TIE_ITEMS / n): within that, the simpler one is taken. The chosen candidate is then refitted on every usable
gold item and delivers the project's weak labels.

On purpose, for every candidate:
- **abstains** carry no information: an item no LF voted on is *uncovered* and gets the class prior (from
  usable gold, smoothed; else uniform), for every candidate alike;
- **ties** (two classes with the same top probability) are broken towards the class with the higher prior,
  then the lower class index (`predictions`), the same rule everywhere;
- **classes no LF votes for** get no probability on covered items from majority vote; weighted majority
  vote (through the prior), the models of abstains (Dawid-Skene, the label model) and the supervised one
  (its intercept) may still give them some, as the evidence says; uncovered items get them through the
  prior, and the run warns about them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import torch
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from snorkel.labeling.model import LabelModel
from threadpoolctl import threadpool_limits

from features.classifiers import hash_uniform
from weak_supervision.choices import AGGREGATOR_NAMES
from weak_supervision.ties import TIE_ITEMS, predictions, simplest_within_tie

Matrix = npt.NDArray[np.int8]
Probabilities = npt.NDArray[np.float64]
Labels = npt.NDArray[np.int64]

ABSTAIN = -1
MIN_HELDOUT = 30
MIN_FIT_GOLD = 30
MIN_CV_GOLD = 20
MIN_SUPERVISED_GOLD = 50
CV_FOLDS = 5
TIE_RULE = (
    f"a more complex aggregator must beat a simpler one by more than {TIE_ITEMS:g} held-out item(s)' worth of "
    "score"
)
SELECTION_METRIC = "macro_f1"
DEFAULT_AGGREGATOR = "majority_vote"
SEED = 123
# Snorkel's label model: the default of its tutorials first, then the settings held-out gold may prefer.
LABEL_MODEL_GRID: tuple[dict[str, float], ...] = (
    {"lr": 0.01, "n_epochs": 500, "l2": 0.0},
    {"lr": 0.01, "n_epochs": 100, "l2": 0.0},
    {"lr": 0.001, "n_epochs": 500, "l2": 0.1},
)
SUPERVISED_GRID = (0.1, 1.0, 10.0)
# Snorkel's fit works on an (m*k)^2 overlap matrix, and its time grows about as the square to the cube of the
# columns: one fit (500 epochs) took 1.4 s at 260 columns, 4.0 s at 408, 5.8 s at 600, 12 s at 800 and 68 s
# at 1,476 here (2 cores), and cross-validation fits it 16 times. Wider matrices leave it out (reported in
# the run's scores): a compute budget of about 1.5 minutes per run, not a judgement of its quality.
LABEL_MODEL_MAX_COLUMNS = 600
DS_ITERATIONS = 100
DS_SMOOTHING = 0.5  # Dirichlet pseudo-counts per confusion-matrix cell, spread evenly over a row
WMV_SHRINKAGE = 2.0  # pseudo-answers pulling an LF's gold accuracy towards all LFs' pooled accuracy


# --- vote patterns ------------------------------------------------------------------------------------------
def distinct_rows(matrix: Matrix) -> tuple[Matrix, npt.NDArray[np.int64], npt.NDArray[np.intp]]:
    """The matrix's distinct rows (in order of first appearance), how often each occurs, and for each row of
    the matrix its distinct row."""
    if not len(matrix):
        return matrix, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.intp)
    # Each row as one integer (votes -1..k-1 as digits of base k+1) where it fits, which a hash table
    # groups far faster than rows compared column by column (or sorted: 0.11 s against 0.03 s at 1M rows).
    base = int(matrix.max()) + 2
    if matrix.shape[1] * np.log2(base) < 62:
        weights = base ** np.arange(matrix.shape[1], dtype=np.int64)
        keys = (matrix.astype(np.int64) + 1) @ weights
        codes, uniques = pd.factorize(keys)
        digits = (np.asarray(uniques, dtype=np.int64)[:, None] // weights[None, :]) % base
        counts = np.bincount(codes, minlength=len(uniques)).astype(np.int64)
        return (digits - 1).astype(np.int8), counts, codes.astype(np.intp)
    rows, inverse, counts = np.unique(matrix, axis=0, return_inverse=True, return_counts=True)
    return rows, counts.astype(np.int64), inverse.reshape(-1).astype(np.intp)


def one_hot(patterns: Matrix, k: int) -> sparse.csr_matrix:
    """Each row's votes as m*k indicators (column j*k + c: LF j voted c)."""
    rows, columns = np.nonzero(patterns != ABSTAIN)
    values = patterns[rows, columns].astype(np.int64)
    return sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float64), (rows, columns * k + values)),
        shape=(len(patterns), patterns.shape[1] * k),
    )


def vote_counts(patterns: Matrix, k: int) -> Probabilities:
    counts = np.zeros((len(patterns), k), dtype=np.float64)
    for c in range(k):
        counts[:, c] = (patterns == c).sum(axis=1)
    return counts


def class_prior(gold: Labels, k: int) -> Probabilities:
    """The usable gold's class shares, add-one smoothed (no class gets 0); uniform without gold."""
    known = gold[gold >= 0]
    counts = np.bincount(known, minlength=k).astype(np.float64) + 1.0
    return np.asarray(counts / counts.sum(), dtype=np.float64)


# --- the candidates -----------------------------------------------------------------------------------------
@dataclass
class Fitted:
    """A candidate fitted on one set of gold: its probabilities for every distinct pattern."""

    probabilities: Probabilities  # covered patterns: the candidate's answer; uncovered ones: the prior
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Problem:
    """What every candidate reads: the distinct patterns, their counts, and the gold on them."""

    patterns: Matrix
    counts: npt.NDArray[np.int64]
    k: int

    @property
    def covered(self) -> npt.NDArray[np.bool_]:
        return np.asarray((self.patterns != ABSTAIN).any(axis=1), dtype=bool)


# Gold given to a candidate: (pattern index, class) pairs, one per gold item (a pattern may repeat).
Gold = tuple[npt.NDArray[np.intp], Labels]


def _with_prior(problem: Problem, probabilities: Probabilities, prior: Probabilities) -> Probabilities:
    result = np.array(probabilities, dtype=np.float64)
    result[~problem.covered] = prior
    return result


def _normalised(scores: Probabilities) -> Probabilities:
    totals = scores.sum(axis=1, keepdims=True)
    return np.asarray(
        np.divide(scores, totals, out=np.zeros_like(scores), where=totals > 0), dtype=np.float64
    )


def majority_vote(problem: Problem, gold: Gold, prior: Probabilities) -> Fitted:
    return Fitted(_with_prior(problem, _normalised(vote_counts(problem.patterns, problem.k)), prior))


def lf_accuracies(problem: Problem, gold: Gold) -> tuple[Probabilities, npt.NDArray[np.int64]]:
    """Each LF's accuracy on the gold items it votes on, shrunk towards the pooled accuracy of all LFs, and
    how many gold items it answered."""
    rows, labels = gold
    votes = problem.patterns[rows]
    answered = (votes != ABSTAIN).sum(axis=0).astype(np.int64)
    correct = (votes == labels[:, None]).sum(axis=0).astype(np.float64)
    pooled = (correct.sum() + 1.0) / (answered.sum() + 2.0)
    return (correct + WMV_SHRINKAGE * pooled) / (answered + WMV_SHRINKAGE), answered


def weighted_majority_vote(problem: Problem, gold: Gold, prior: Probabilities) -> Fitted:
    k = problem.k
    accuracy, _ = lf_accuracies(problem, gold)
    accuracy = np.clip(accuracy, 1e-3, 1 - 1e-3)
    # One-coin model: an LF right with probability a, else any other class alike.
    weights = np.maximum(np.log((k - 1) * accuracy / (1 - accuracy)), 0.0)
    scores = np.zeros((len(problem.patterns), k), dtype=np.float64)
    for c in range(k):
        scores[:, c] = ((problem.patterns == c) * weights[None, :]).sum(axis=1)
    logits = scores + np.log(prior)[None, :]
    logits -= logits.max(axis=1, keepdims=True)
    probabilities = _normalised(np.exp(logits))
    return Fitted(
        _with_prior(problem, probabilities, prior),
        {"weights": [round(float(w), 4) for w in weights]},
    )


def dawid_skene(problem: Problem, gold: Gold, prior: Probabilities) -> Fitted:
    """Dawid-Skene EM over the distinct covered patterns, vectorised through a one-hot response matrix.

    Unlike a crowd worker's missing answer, an LF's abstain is a response it chose, and often the telling
    one (an LF that only ever votes "spam" says "not spam" by abstaining), so each LF's confusion matrix has
    k + 1 columns: abstain and the k classes."""
    k, m = problem.k, problem.patterns.shape[1]
    covered = problem.covered
    patterns, counts = problem.patterns[covered], problem.counts[covered].astype(np.float64)
    responses = _responses(patterns, k)
    posterior = _normalised(vote_counts(patterns, k))
    fixed_rows, fixed_labels = _fixed(problem, gold, covered)
    gold_part = np.zeros((len(patterns), k), dtype=np.float64)
    np.add.at(gold_part, fixed_rows, np.eye(k)[fixed_labels])
    share = np.clip(gold_part.sum(axis=1) / np.maximum(counts, 1.0), 0.0, 1.0)[:, None]
    gold_part = _normalised(gold_part)
    posterior = share * gold_part + (1 - share) * posterior

    def expectation(log_confusion: Probabilities, log_share: Probabilities) -> Probabilities:
        log_likelihood = np.asarray(responses @ log_confusion) + log_share
        log_likelihood -= log_likelihood.max(axis=1, keepdims=True)
        return _normalised(np.exp(log_likelihood))

    log_confusion = np.zeros((m * (k + 1), k))
    log_share = np.log(np.full(k, 1.0 / k))
    for _ in range(DS_ITERATIONS):
        weighted = posterior * counts[:, None]
        log_share = np.log((weighted.sum(axis=0) + 1.0) / (weighted.sum() + k))
        # confusion[j, r, c]: how often LF j responds r (0 = abstain, 1 + l = votes l) when the truth is c.
        confusion = (np.asarray(responses.T @ weighted) + DS_SMOOTHING / (k + 1)).reshape(m, k + 1, k)
        confusion /= confusion.sum(axis=1, keepdims=True)
        log_confusion = np.log(confusion).reshape(m * (k + 1), k)
        # Gold items keep their label (their share of a pattern's count, where a pattern holds both).
        updated = share * gold_part + (1 - share) * expectation(log_confusion, log_share)
        change = float(np.abs(updated - posterior).max()) if len(updated) else 0.0
        posterior = updated
        if change < 1e-6:
            break
    full = np.zeros((len(problem.patterns), k), dtype=np.float64)
    # The answer delivered for a pattern is the model's, not its gold items' labels.
    full[covered] = expectation(log_confusion, log_share)
    return Fitted(_with_prior(problem, full, prior))


def _responses(patterns: Matrix, k: int) -> sparse.csr_matrix:
    """Each row's responses as m*(k+1) indicators (column j*(k+1) + r: LF j abstained (r=0) or voted r-1)."""
    m = patterns.shape[1]
    rows = np.repeat(np.arange(len(patterns)), m)
    columns = np.tile(np.arange(m), len(patterns)) * (k + 1) + patterns.reshape(-1).astype(np.int64) + 1
    return sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float64), (rows, columns)), shape=(len(patterns), m * (k + 1))
    )


def _fixed(problem: Problem, gold: Gold, covered: npt.NDArray[np.bool_]) -> Gold:
    """Gold pairs re-indexed to the covered patterns (gold on uncovered items teaches no LF anything)."""
    rows, labels = gold
    position = np.cumsum(covered) - 1
    keep = covered[rows]
    return position[rows[keep]].astype(np.intp), labels[keep]


class DistinctRowsLabelModel(LabelModel):
    """Snorkel's label model, fitted on a label matrix's distinct rows and how often each occurs.

    What the fit reads from the matrix (the number of rows, each LF's coverage and the overlap matrix O) are
    sums over rows, so weighting each distinct row by its count gives exactly the whole matrix's figures, and
    the cost no longer grows with the number of items: a million items with ten LFs have a few hundred
    distinct vote patterns. Everything else is Snorkel's own `fit`.
    """

    row_counts: npt.NDArray[np.int64] | None = None

    def _generate_O(self, L: npt.NDArray[Any], higher_order: bool = False) -> None:
        counts = self.row_counts
        if counts is None or len(counts) != len(L):
            super()._generate_O(L, higher_order=higher_order)
            return
        augmented = self._get_augmented_label_matrix(L, higher_order=higher_order)
        total = float(counts.sum())
        self.d = augmented.shape[1]
        self.O = (
            torch.from_numpy(augmented.T @ (augmented * counts[:, None]) / total)
            .float()
            .to(self.config.device)
        )
        # Set by fit from the distinct rows just before this step: weighted here as the rest.
        self.coverage = ((L != 0) * counts[:, None]).sum(axis=0) / total  # L is shifted: 0 abstains
        self.n = int(total)


def label_model_fit(
    patterns: Matrix, counts: npt.NDArray[np.int64], k: int, class_balance: Probabilities | None,
    params: dict[str, float],
) -> LabelModel:  # fmt: skip
    torch.set_num_threads(1)  # the model is tiny: torch's threads only add synchronisation
    model = DistinctRowsLabelModel(cardinality=k, verbose=False)
    model.row_counts = counts.astype(np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(patterns, class_balance=class_balance, n_epochs=int(params["n_epochs"]), lr=params["lr"],
                  l2=params["l2"], seed=SEED, progress_bar=False)  # fmt: skip
    return model


def label_model_candidates(params: dict[str, float]) -> Callable[[Problem, Gold, Probabilities], Fitted]:
    def fit(problem: Problem, gold: Gold, prior: Probabilities) -> Fitted:
        balance = prior if len(gold[0]) else None
        used = problem.counts > 0
        model = label_model_fit(problem.patterns[used], problem.counts[used], problem.k, balance, params)
        probabilities = np.asarray(model.predict_proba(problem.patterns), dtype=np.float64)
        return Fitted(_with_prior(problem, probabilities, prior), dict(params))

    return fit


def supervised_candidate(c: float) -> Callable[[Problem, Gold, Probabilities], Fitted]:
    def fit(problem: Problem, gold: Gold, prior: Probabilities) -> Fitted:
        rows, labels = gold
        if len(np.unique(labels)) < 2:  # nothing to tell apart: every item gets the prior
            return Fitted(np.tile(prior, (len(problem.patterns), 1)), {"C": c})
        features = one_hot(problem.patterns, problem.k)
        model = LogisticRegression(C=c, max_iter=2000)
        with threadpool_limits(limits=1), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(features[rows], labels)
        probabilities = np.zeros((len(problem.patterns), problem.k), dtype=np.float64)
        probabilities[:, np.asarray(model.classes_, dtype=np.int64)] = model.predict_proba(features)
        return Fitted(_with_prior(problem, probabilities, prior), {"C": c})

    return fit


@dataclass(frozen=True)
class Candidate:
    name: str
    complexity: int
    needs_gold: int  # gold items a fit needs (0: none)
    uses_gold: bool  # whether a fit reads gold at all (else it is fitted once, not per fold)
    variants: tuple[Callable[[Problem, Gold, Probabilities], Fitted], ...]


CANDIDATES: tuple[Candidate, ...] = (
    Candidate("majority_vote", 0, 0, False, (majority_vote,)),
    Candidate("weighted_majority_vote", 1, 1, True, (weighted_majority_vote,)),
    Candidate("dawid_skene", 2, 0, True, (dawid_skene,)),
    Candidate(
        "label_model", 3, 0, True, tuple(label_model_candidates(params) for params in LABEL_MODEL_GRID)
    ),
    Candidate(
        "supervised", 4, MIN_SUPERVISED_GOLD, True, tuple(supervised_candidate(c) for c in SUPERVISED_GRID)
    ),
)
CANDIDATE_NAMES = tuple(candidate.name for candidate in CANDIDATES)
assert CANDIDATE_NAMES == AGGREGATOR_NAMES


# --- scoring and choosing -----------------------------------------------------------------------------------
def scores(y_true: Labels, y_pred: Labels, labels: list[str]) -> dict[str, Any]:
    classes = list(range(len(labels)))
    per_class = f1_score(y_true, y_pred, labels=classes, average=None, zero_division=0)
    return {
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4) if len(y_true) else 0.0,
        "macro_f1": round(
            float(f1_score(y_true, y_pred, labels=classes, average="macro", zero_division=0)), 4
        ),
        "f1": {label: round(float(score), 4) for label, score in zip(labels, per_class, strict=True)},
    }


def _metric(y_true: Labels, y_pred: Labels, k: int) -> float:
    if SELECTION_METRIC == "accuracy":
        return float(np.mean(y_true == y_pred))
    return float(f1_score(y_true, y_pred, labels=list(range(k)), average="macro", zero_division=0))


def fold_of(ids: npt.NDArray[np.int64], folds: int = CV_FOLDS) -> npt.NDArray[np.int64]:
    """A fixed fold per item, from its id (the same in every run)."""
    return np.minimum((hash_uniform(ids, "fold") * folds).astype(np.int64), folds - 1)


@dataclass
class Selection:
    """The chosen aggregator, how it was chosen, every candidate's held-out score, and each candidate's
    probabilities per item when refitted on all usable gold."""

    name: str
    selected_on: str
    scores: dict[str, float]
    n_heldout: int
    params: dict[str, Any]
    probabilities: dict[str, Probabilities]  # name -> (n items, k), refitted on all usable gold
    prior: Probabilities
    covered: npt.NDArray[np.bool_]
    skipped: dict[str, str] = field(default_factory=dict)  # name -> why it was not fitted

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "selected_on": self.selected_on, "metric": SELECTION_METRIC,
            "scores": self.scores, "n_heldout": self.n_heldout, "params": self.params, "skipped": self.skipped,
            "tie_rule": TIE_RULE,
        }  # fmt: skip


def _best_variant(
    candidate: Candidate, problem: Problem, fit_gold: Gold, prior: Probabilities,
    held_rows: npt.NDArray[np.intp], held_labels: Labels, held_keys: npt.NDArray[np.int64],
) -> tuple[float, int]:  # fmt: skip
    best = (-1.0, 0)
    for index, variant in enumerate(candidate.variants):
        fitted = variant(problem, fit_gold, prior)
        score = _metric(held_labels, predictions(fitted.probabilities[held_rows], held_keys), problem.k)
        if score > best[0] + 1e-12:
            best = (score, index)
    return best


def _cv_scores(
    candidate: Candidate, problem: Problem, gold_rows: npt.NDArray[np.intp], gold_labels: Labels,
    gold_keys: npt.NDArray[np.int64], k: int, scored: npt.NDArray[np.bool_],
) -> tuple[float, int]:  # fmt: skip
    """The candidate's out-of-fold score on the `scored` gold items (the covered ones), for its best
    variant."""
    folds = fold_of(gold_keys)
    best = (-1.0, 0)
    for index, variant in enumerate(candidate.variants):
        predicted = np.full(len(gold_rows), -1, dtype=np.int64)
        if not candidate.uses_gold:
            fitted = variant(problem, (gold_rows[:0], gold_labels[:0]), class_prior(gold_labels, k))
            predicted = predictions(fitted.probabilities[gold_rows], gold_keys)
        else:
            for fold in range(CV_FOLDS):
                held = folds == fold
                if not held.any():
                    continue
                train = (gold_rows[~held], gold_labels[~held])
                prior = class_prior(train[1], k)
                fitted = variant(problem, train, prior)
                predicted[held] = predictions(fitted.probabilities[gold_rows[held]], gold_keys[held])
        score = _metric(gold_labels[scored], predicted[scored], k)
        if score > best[0] + 1e-12:
            best = (score, index)
    return best


def aggregator_select(
    *, matrix: Matrix, k: int, gold: Labels, valid: npt.NDArray[np.bool_], ids: npt.NDArray[np.int64]
) -> Selection:
    """Fits every candidate, scores each on held-out usable gold, chooses one (see the module's docstring)
    and refits every candidate on all usable gold. `gold`: each item's usable gold class or -1 (never a
    test-split or evaluation-only label); `valid`: the items of the valid split. The fits read every item's
    votes (never a label beyond `gold`): the vote patterns of all splits, as an unsupervised model may."""
    patterns, counts, pattern_of = distinct_rows(matrix)
    problem = Problem(patterns=patterns, counts=counts, k=k)
    skipped: dict[str, str] = {}
    if matrix.shape[1] * k > LABEL_MODEL_MAX_COLUMNS:
        skipped["label_model"] = (
            f"{matrix.shape[1]} LFs x {k} classes = {matrix.shape[1] * k} columns, more than the "
            f"{LABEL_MODEL_MAX_COLUMNS} Snorkel's LabelModel is fitted on within a run's time"
        )
    candidates = [candidate for candidate in CANDIDATES if candidate.name not in skipped]
    has_gold = gold >= 0
    # Candidates differ only on covered items (every one gives an uncovered item the prior), so they are
    # scored on covered held-out items; uncovered gold still fits (the prior, the supervised intercept).
    covered_items = problem.covered[pattern_of]
    valid_gold = has_gold & valid & covered_items
    other_gold = has_gold & ~valid
    n_gold = int(has_gold.sum())
    held_scores: dict[str, float] = {}
    chosen_variant: dict[str, int] = {}
    if valid_gold.sum() >= MIN_HELDOUT and other_gold.sum() >= MIN_FIT_GOLD:
        selected_on = "valid"
        fit_gold = (pattern_of[other_gold], gold[other_gold])
        held_rows, held_labels = pattern_of[valid_gold], gold[valid_gold]
        prior = class_prior(fit_gold[1], k)
        for candidate in candidates:
            if len(fit_gold[0]) < candidate.needs_gold:
                continue
            score, variant = _best_variant(
                candidate, problem, fit_gold, prior, held_rows, held_labels, ids[valid_gold]
            )
            held_scores[candidate.name], chosen_variant[candidate.name] = score, variant
        n_heldout = len(held_rows)
    elif n_gold >= MIN_CV_GOLD and int((has_gold & covered_items).sum()) >= MIN_CV_GOLD:
        selected_on = "cross_validation"
        gold_items = np.flatnonzero(has_gold)
        gold_rows, gold_labels = pattern_of[gold_items], gold[gold_items]
        scored = covered_items[gold_items]
        for candidate in candidates:
            if n_gold * (CV_FOLDS - 1) / CV_FOLDS < candidate.needs_gold:
                continue
            score, variant = _cv_scores(
                candidate, problem, gold_rows, gold_labels, ids[gold_items], k, scored
            )
            held_scores[candidate.name], chosen_variant[candidate.name] = score, variant
        n_heldout = int(scored.sum())
    else:
        selected_on, n_heldout = "default", 0
    name = _choose(held_scores, n_heldout) if held_scores else DEFAULT_AGGREGATOR
    # Every candidate refitted on all usable gold: the chosen one delivers, the others are reported.
    all_gold = (pattern_of[has_gold], gold[has_gold])
    prior = class_prior(gold[has_gold], k) if n_gold else np.full(k, 1.0 / k)
    probabilities: dict[str, Probabilities] = {}
    params: dict[str, Any] = {}
    for candidate in candidates:
        if n_gold < candidate.needs_gold:
            continue
        fitted = candidate.variants[chosen_variant.get(candidate.name, 0)](problem, all_gold, prior)
        probabilities[candidate.name] = fitted.probabilities[pattern_of]
        if candidate.name == name:
            params = fitted.params
    return Selection(
        name=name, selected_on=selected_on, scores={key: round(value, 4) for key, value in held_scores.items()},
        n_heldout=n_heldout, params=params, probabilities=probabilities, prior=prior,
        covered=problem.covered[pattern_of], skipped=skipped,
    )  # fmt: skip


def _choose(held_scores: dict[str, float], n_heldout: int) -> str:
    """The best score wins unless a simpler candidate is within TIE_ITEMS held-out items' worth of it."""
    return simplest_within_tie(held_scores, CANDIDATE_NAMES, n_heldout) or DEFAULT_AGGREGATOR
