"""Query strategies: how a fitted classifier ranks the pool. Pure functions over matrices, shared by the
retraining service (a million items, scored in chunks) and the simulator (the whole loop in memory).

The uncertainty measures and the committee's disagreement are modAL's; a score is higher for an item the
project should label sooner. Diverse batches re-rank the best candidates with modAL's ranked batch mode
(Cardoso et al.), which trades uncertainty against distance to what is labeled and already picked, so that
one batch is not fifty near-duplicates.

The adaptive strategy (the default) hedges: see `active_learning.audit`. Distances (cold starts, diverse
picks) are measured on the embedding part of hybrid features, where nearby texts mean similar things; on
hashed TF-IDF two texts are near only when they share words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.base import ClassifierMixin
from sklearn.cluster import MiniBatchKMeans
from sklearn.metrics import pairwise_distances_argmin
from threadpoolctl import threadpool_limits

from active_learning.choices import Strategy
from features.classifiers import Scores, classifier_fit, classifier_new, hash_uniform
from features.vectors import N_FEATURES, Matrix

if TYPE_CHECKING:
    from modAL.models import Committee

# modAL is imported where it is used: it imports torch (modAL.utils.data), 2.6 s and about 250 MB, which every
# process that loads Django (the web server, each manage.py command, a worker building an export) would
# otherwise pay for at start-up.

COMMITTEE_SIZE = 5
# Candidates a diverse batch is drawn from, per item of the batch: wide enough to leave near-duplicates
# out, narrow enough that every pick is still among the most informative items.
DIVERSE_CANDIDATES_PER_ITEM = 4
# Items clustered for a cold start: k-means on more would cost seconds and pick the same kind of centres.
COLD_START_SAMPLE = 20_000
NEAR_DUPLICATE = 0.9  # cosine similarity above which two items teach the model the same thing
DIVERSE_STRATEGIES = frozenset({Strategy.MARGIN_DIVERSE, Strategy.UNCERTAINTY_DIVERSE, Strategy.DIVERSE})


@dataclass
class Learner:
    """A fitted classifier and, for query by committee, its committee (bootstrap replicas)."""

    model: ClassifierMixin
    committee: Committee | None = None


def learner_fit(strategy: str, x: Matrix, y: npt.NDArray[np.int64], seed: int = 0,
                weights: npt.NDArray[np.float64] | None = None) -> Learner:  # fmt: skip
    model = classifier_fit(x, y, weights, seed)
    if strategy != Strategy.COMMITTEE:
        return Learner(model=model)
    from modAL.models import ActiveLearner, Committee

    rng = np.random.default_rng(seed)
    members = []
    for member in range(COMMITTEE_SIZE):
        rows = _bootstrap_rows(y, rng)
        members.append(ActiveLearner(estimator=classifier_new(seed + member), X_training=x[rows],
                                     y_training=y[rows]))  # fmt: skip
    return Learner(model=model, committee=Committee(learner_list=members))


def _bootstrap_rows(y: npt.NDArray[np.int64], rng: np.random.Generator) -> npt.NDArray[np.int64]:
    """A bootstrap sample that keeps at least one item of every class (a member must know them all)."""
    rows = rng.integers(0, len(y), size=len(y))
    firsts = np.asarray([np.flatnonzero(y == label)[0] for label in np.unique(y)])
    return np.concatenate([firsts, rows])


def scores_compute(
    strategy: str, learner: Learner | None, x: Matrix, ids: npt.NDArray[np.int64], seed: int | str = 0,
    weak_doubt: Scores | None = None,
) -> Scores:  # fmt: skip
    """How much each pool item would teach the model: higher comes first."""
    if strategy == Strategy.RANDOM or learner is None:
        return hash_uniform(ids, seed)
    from modAL.disagreement import consensus_entropy, vote_entropy
    from modAL.uncertainty import classifier_entropy, classifier_margin, classifier_uncertainty

    model = learner.model
    if strategy in {Strategy.UNCERTAINTY, Strategy.UNCERTAINTY_DIVERSE}:
        return np.asarray(classifier_uncertainty(model, x), dtype=np.float64)
    if strategy == Strategy.ENTROPY:
        return np.asarray(classifier_entropy(model, x), dtype=np.float64)
    if strategy == Strategy.COMMITTEE and learner.committee is not None:
        # Vote entropy takes few values with five members; the consensus entropy breaks its ties.
        votes = np.asarray(vote_entropy(learner.committee, x), dtype=np.float64)
        return votes + 1e-3 * np.asarray(consensus_entropy(learner.committee, x), dtype=np.float64)
    margin = 1.0 - np.asarray(classifier_margin(model, x), dtype=np.float64)
    if strategy == Strategy.WEAK and weak_doubt is not None:
        return 0.5 * margin + 0.5 * weak_doubt
    return margin


def distance_space(x: Matrix) -> Matrix:
    """The columns distances are measured on: the embedding parts of hybrid features (the dense columns after
    the hashed TF-IDF ones, and before a hashed context block where the set has one: features.choices),
    else every column."""
    if sparse.issparse(x) and x.shape[1] > N_FEATURES:
        matrix: Any = x
        dense = x.shape[1] % N_FEATURES  # the embeddings' width: every hashed part is N_FEATURES wide
        return np.asarray(matrix[:, N_FEATURES : N_FEATURES + dense].toarray(), dtype=np.float32)
    return x


def cluster_select(scores: Scores, x: Matrix, n: int, seed: int = 0) -> npt.NDArray[np.int64]:
    """A diverse batch of the best-scored rows: the DIVERSE_CANDIDATES_PER_ITEM * n best, cut into n clusters
    (k-means, in `distance_space`), and the candidate nearest each cluster's centre (best first)."""
    n = min(n, len(scores))
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    ranked = _top(scores, min(len(scores), n * DIVERSE_CANDIDATES_PER_ITEM))
    if len(ranked) <= n:
        return ranked
    picked = ranked[diverse_select(x[ranked], n, seed=seed)]
    return picked[np.argsort(-scores[picked], kind="stable")].astype(np.int64)


def batch_select(
    strategy: str, scores: Scores, x: Matrix, n: int, labeled_x: Matrix | None, seed: int = 0
) -> npt.NDArray[np.int64]:
    """The rows of the next batch, best first: the top scores, or for diverse strategies modAL's ranked
    batch over the best candidates."""
    n = min(n, len(scores))
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    if strategy == Strategy.ADAPTIVE:
        return cluster_select(scores, x, n, seed)
    if strategy not in DIVERSE_STRATEGIES or labeled_x is None or labeled_x.shape[0] == 0:
        return _top(scores, n)
    ranked = _top(scores, min(len(scores), n * DIVERSE_CANDIDATES_PER_ITEM))
    candidates = _distinct(ranked, x, labeled_x)
    if len(candidates) <= n:  # too few distinct ones: the best of the rest fill the batch
        rest = ranked[~np.isin(ranked, candidates)]
        return np.concatenate([candidates, rest[: n - len(candidates)]]).astype(np.int64)
    from modAL.batch import ranked_batch

    learner = _Labeled(labeled_x)
    span = float(np.ptp(scores[candidates])) or 1.0
    normalised = (scores[candidates] - scores[candidates].min()) / span
    picked, _ = ranked_batch(
        learner, x[candidates], normalised, n_instances=n, metric="euclidean", n_jobs=None
    )
    return candidates[np.asarray(picked, dtype=np.int64)]


def _distinct(candidates: npt.NDArray[np.int64], x: Matrix, labeled_x: Matrix) -> npt.NDArray[np.int64]:
    """The candidates less their near-duplicates (cosine similarity at least NEAR_DUPLICATE with a better
    candidate or a labeled item): modAL's ranked batch alone lets copies of one doubtful text through when
    the pool is large (its weight on distance shrinks as labels accumulate)."""
    rows = x[candidates]
    within = _cosine(rows, rows)
    known = _cosine(rows, labeled_x).max(axis=1) if labeled_x.shape[0] else np.zeros(len(candidates))
    keep: list[int] = []
    for position in range(len(candidates)):
        if known[position] >= NEAR_DUPLICATE or any(
            within[position, kept] >= NEAR_DUPLICATE for kept in keep
        ):
            continue
        keep.append(position)
    return candidates[np.asarray(keep, dtype=np.int64)]


def _cosine(a: Matrix, b: Matrix) -> npt.NDArray[np.float64]:
    product: Any = a @ b.T
    dense = np.asarray(product.toarray() if sparse.issparse(product) else product, dtype=np.float64)
    norms = np.outer(_norms(a), _norms(b))
    result: npt.NDArray[np.float64] = np.divide(dense, norms, out=np.zeros_like(dense), where=norms > 0)
    return result


def _norms(m: Matrix) -> npt.NDArray[np.float64]:
    matrix: Any = m
    squared = (
        matrix.multiply(matrix).sum(axis=1) if sparse.issparse(matrix) else np.sum(matrix * matrix, axis=1)
    )
    return np.sqrt(np.asarray(squared, dtype=np.float64).ravel())


def _top(scores: Scores, n: int) -> npt.NDArray[np.int64]:
    if n >= len(scores):
        return np.argsort(-scores, kind="stable").astype(np.int64)
    part = np.argpartition(-scores, n - 1)[:n]
    return part[np.argsort(-scores[part], kind="stable")].astype(np.int64)


class _Labeled:
    """What modAL's ranked batch reads from a learner: the labeled items' features."""

    on_transformed = False

    def __init__(self, x: Matrix) -> None:
        self.X_training = x


def diverse_select(x: Matrix, n: int, seed: int = 0) -> npt.NDArray[np.int64]:
    """A cold start: the items nearest to the centres of n clusters of (a sample of) the pool, in
    `distance_space`."""
    rows = x.shape[0]
    n = min(n, rows)
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(rows, size=min(rows, COLD_START_SAMPLE), replace=False))
    data: Any = distance_space(x[sample])
    if sparse.issparse(data):  # dense centres over 262,144 hashed columns would take GBs: keep the used ones
        data = data[:, np.unique(data.indices)]
    with threadpool_limits(limits=1):  # k-means' small BLAS calls only contend for the cores when threaded
        kmeans = MiniBatchKMeans(n_clusters=n, random_state=seed, n_init=1, batch_size=2048).fit(data)
        nearest = pairwise_distances_argmin(kmeans.cluster_centers_, data)
    chosen = list(dict.fromkeys(int(sample[row]) for row in nearest))
    if len(chosen) < n:  # two centres shared a nearest item: fill up with a seeded draw
        rest = np.setdiff1d(np.arange(rows), np.asarray(chosen))
        chosen += rng.choice(rest, size=n - len(chosen), replace=False).tolist()
    return np.asarray(chosen, dtype=np.int64)
