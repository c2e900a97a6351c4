"""Span aggregation: many labeling functions' spans over an item's tokens, combined into weak spans.

Pure numpy (no Django). Every LF's spans in an item become BIO tags over the item's tokens
(`core.spans.bio_tags`), coded as integers the way `core.spans.bio_label_names` names them: 0 = O, then
B- and I- of each entity type in schema order (type t: B = 2t + 1, I = 2t + 2). A run's tokens are one flat
array (`TokenVotes`: the tokens of every item one after another, a column per LF); the aggregators answer
each token with a tag and a posterior over the tags, and `core.spans.tag_spans` (BIO, lenient) decodes the
tags into spans.

Aggregators, simplest first (a tie goes to the simpler one):
- `majority_vote`: a token is O unless some LF tags it; then it takes the tag (B-X or I-X) most LFs gave it
  among the non-O votes. Ties go to the tag of the earliest LF (the run's column order) among those tied.
  Its posterior: each tag's share of the token's non-O votes (O = 1 where no LF tagged the token). On the
  WRENCH wikigold test split this is the published baseline (span P/R/F1 0.507 / 0.619 / 0.557, tested).
- `weighted_vote`: the same vote, each LF's vote weighted by the log-odds of its token precision on fitting
  gold (its non-O tags that equal the gold tag, add-one smoothed), floored at 0; a token whose voters all
  weigh 0 is O. Needs gold to fit (MIN_WEIGHT_GOLD items).
- `hmm`: a hidden Markov model over the BIO tags (Lison et al. 2020, as skweak does it), fitted by EM on every
  item's votes (no gold): a start distribution and a transition matrix between tags (I-X only after B-X or
  I-X, never first), and per LF a confusion matrix P(LF's tag | true tag); the LFs are independent given the
  true tag. An LF's O says nothing about the types it never marks (its O under a true X of such a type is
  scored as under a true O), so an LF for places does not vote against people. EM starts from majority vote
  (its posteriors as the first E step), with Dirichlet pseudo-counts as priors: HMM_DIAGONAL on each
  confusion matrix's diagonal (an LF is taken to be right more often than not), HMM_SMOOTHING on every cell
  of the confusion and transition matrices, and majority vote's own expected counts times HMM_ANCHOR (MAP
  EM anchored at its start: unanchored, EM on correlated LFs drifts: wikigold test F1 0.468 against 0.547).
  Forward-backward is vectorised over items: items sorted by length, position p of every item at least
  p + 1 tokens long done at once. The tags are the per-token posterior argmax. Wikigold's train split (1,355
  sentences, 16 LFs) fits in about 2 s here.

Choosing (`span_aggregator_select`), from usable gold spans only (never the test split's, never
evaluation-only spans): on the valid split's gold items where there are at least MIN_HELDOUT of them (the
gold of other splits fits weighted_vote); else out of fold (CV_FOLDS folds by a hash of the item id) over
the usable gold when there are at least MIN_CV_GOLD gold items; else majority vote (no gold to choose on:
the baseline). The score is exact-match micro span F1 (`core.span_metrics.span_prf`); a more complex
aggregator must beat a simpler one by more than one held-out gold span's worth of F1 (1 / spans).

An item's confidence: the mean, over its tokens that some LF tagged, of the delivered tag's posterior (1.0
for an item no LF tagged: its O tags are certain, and it counts as not covered).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from core.span_metrics import span_prf
from core.spans import OUTSIDE, SpanDict, TokenOffsets, bio_label_names, bio_tags, tag_spans

Codes = npt.NDArray[np.int8]
Posteriors = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
SpanKey = tuple[int, int, str]  # start, end, type key: what exact match compares

MIN_HELDOUT = 30
MIN_CV_GOLD = 20
MIN_WEIGHT_GOLD = 10
CV_FOLDS = 5
HMM_ITERATIONS = 30
HMM_TOLERANCE = 1e-4  # relative change of the log-likelihood per token that ends EM early
HMM_DIAGONAL = 2.0  # pseudo-count on each confusion matrix's diagonal
# Majority vote's own counts, times this, as pseudo-counts: EM left free drifts away from a good start as
# the LFs' correlations (cased and uncased copies of a gazetteer) pile up; chosen on wikigold's train split.
HMM_ANCHOR = 3.0
HMM_SMOOTHING = 0.1  # pseudo-count on every cell of the confusion and transition matrices
DEFAULT_AGGREGATOR = "majority_vote"
SPAN_AGGREGATOR_NAMES = ("majority_vote", "weighted_vote", "hmm")
SELECTION_METRIC = "span_f1"
TIE_RULE = (
    "a more complex aggregator must beat a simpler one by more than one held-out gold span's worth of F1"
)


# --- tags and tokens ----------------------------------------------------------------------------------------
def tag_count(k: int) -> int:
    return 2 * k + 1


def spans_to_codes(offsets: TokenOffsets, spans: Sequence[SpanDict], type_index: Mapping[str, int]) -> Codes:
    """An item's spans as tag codes over its tokens (spans of unknown types are left out)."""
    known = [span for span in spans if span["label"] in type_index]
    codes = np.zeros(len(offsets), dtype=np.int8)
    for position, tag in enumerate(bio_tags(offsets, known)):
        if tag != OUTSIDE:
            codes[position] = 2 * type_index[tag[2:]] + (1 if tag[0] == "B" else 2)
    return codes


def codes_to_spans(
    codes: Sequence[int] | Codes, offsets: TokenOffsets, types: Sequence[str]
) -> list[SpanKey]:
    """The (start, end, type) spans that tags give over an item's tokens (BIO, read leniently)."""
    names = bio_label_names(types)
    tags = [names[int(code)] for code in codes]
    return [(offsets[first][0], offsets[last - 1][1], kind) for first, last, kind in tag_spans(tags)]


@dataclass
class TokenVotes:
    """Every item's tokens, one after another: the LFs' tag codes (a column per LF), each token's (start,
    end) in its item's text, and where each item's tokens begin (`starts`, one more than there are items)."""

    votes: Codes  # (tokens, LFs)
    offsets: npt.NDArray[np.int32]  # (tokens, 2)
    starts: npt.NDArray[np.int64]  # (items + 1,)
    k: int  # entity types

    @property
    def n_items(self) -> int:
        return len(self.starts) - 1

    def item_offsets(self, item: int) -> TokenOffsets:
        rows = self.offsets[self.starts[item] : self.starts[item + 1]]
        return [(int(start), int(end)) for start, end in rows.tolist()]

    def item_of_token(self) -> npt.NDArray[np.int64]:
        return np.repeat(np.arange(self.n_items), np.diff(self.starts))


@dataclass
class TokenAnswer:
    """An aggregator's answer: a tag code per token and the posterior over the tags."""

    tags: Codes
    posteriors: Posteriors  # (tokens, 2k + 1)


def item_spans(
    tokens: TokenVotes, tags: Codes, types: Sequence[str], items: Sequence[int]
) -> list[list[SpanKey]]:
    """The spans the tags give, per item asked for."""
    return [
        codes_to_spans(tags[tokens.starts[item] : tokens.starts[item + 1]], tokens.item_offsets(item), types)
        for item in items
    ]


def item_confidence(tokens: TokenVotes, answer: TokenAnswer) -> tuple[npt.NDArray[np.float64], Bools]:
    """Per item: the mean posterior of the delivered tags over the tokens some LF tagged, and whether there
    is such a token (1.0 and False where none)."""
    tagged = (tokens.votes != 0).any(axis=1)
    chosen = answer.posteriors[np.arange(len(answer.tags)), answer.tags.astype(np.int64)]
    item = tokens.item_of_token()
    counts = np.bincount(item[tagged], minlength=tokens.n_items)
    sums = np.bincount(item[tagged], weights=chosen[tagged], minlength=tokens.n_items)
    covered = counts > 0
    return np.where(covered, sums / np.maximum(counts, 1), 1.0), covered


def type_probabilities(tokens: TokenVotes, answer: TokenAnswer) -> npt.NDArray[np.float64]:
    """Per item and type: the highest posterior of the type (B- plus I-) over the item's tokens."""
    by_type = answer.posteriors[:, 1::2] + answer.posteriors[:, 2::2]
    result = np.zeros((tokens.n_items, tokens.k), dtype=np.float64)
    if len(by_type):
        np.maximum.at(result, tokens.item_of_token(), by_type)
    return result


# --- majority and weighted vote -------------------------------------------------------------------------------
def _vote(votes: Codes, weights: npt.NDArray[np.float64], k: int) -> TokenAnswer:
    """The weighted non-O vote per token; ties go to the tag of the earliest LF among them."""
    n, m = votes.shape
    s = tag_count(k)
    rows = np.arange(n)
    scores = np.zeros((n, s), dtype=np.float64)
    first = np.full((n, s), m, dtype=np.int64)
    for column in range(m - 1, -1, -1):  # backwards, so that the earliest LF's index stays
        scores[rows, votes[:, column]] += weights[column]
        first[rows, votes[:, column]] = column
    scores[:, 0] = 0.0
    best = scores.max(axis=1)
    tied = (scores >= best[:, None] - 1e-12) & (scores > 0)
    tags = np.where(tied, first, m + 1).argmin(axis=1)
    covered = best > 0
    tags = np.where(covered, tags, 0).astype(np.int8)
    totals = scores.sum(axis=1, keepdims=True)
    posteriors = np.where(covered[:, None], scores / np.maximum(totals, 1e-12), 0.0)
    posteriors[~covered, 0] = 1.0
    return TokenAnswer(tags=tags, posteriors=posteriors)


def majority_vote(tokens: TokenVotes, gold: Codes | None = None) -> TokenAnswer:
    return _vote(tokens.votes, np.ones(tokens.votes.shape[1]), tokens.k)


def lf_token_weights(votes: Codes, gold: Codes) -> npt.NDArray[np.float64]:
    """Each LF's log-odds of being right where it tags a gold token (add-one smoothed), floored at 0."""
    known = gold >= 0
    weights = np.zeros(votes.shape[1], dtype=np.float64)
    for column in range(votes.shape[1]):
        fired = known & (votes[:, column] != 0)
        right = int((votes[fired, column] == gold[fired]).sum())
        precision = (right + 1) / (int(fired.sum()) + 2)
        weights[column] = max(0.0, float(np.log(precision / (1 - precision))))
    return weights


def weighted_vote(tokens: TokenVotes, gold: Codes | None = None) -> TokenAnswer:
    """`gold`: each token's gold tag code, -1 for tokens of items without (usable, fitting) gold."""
    if gold is None:
        gold = np.full(len(tokens.votes), -1, dtype=np.int8)
    return _vote(tokens.votes, lf_token_weights(tokens.votes, gold), tokens.k)


# --- the hidden Markov model ------------------------------------------------------------------------------
def allowed_transitions(k: int) -> tuple[Bools, Bools]:
    """Which tag may follow which (I-X only after B-X or I-X), and which may start an item (not I-)."""
    s = tag_count(k)
    allowed = np.ones((s, s), dtype=bool)
    for t in range(k):
        inside = 2 * t + 2
        allowed[:, inside] = False
        allowed[2 * t + 1, inside] = allowed[inside, inside] = True
    start = np.ones(s, dtype=bool)
    start[2::2] = False
    return allowed, start


@dataclass
class _Positions:
    """The token indexes of position p of every item at least p + 1 tokens long (items longest first)."""

    steps: list[npt.NDArray[np.int64]]

    @classmethod
    def of(cls, starts: npt.NDArray[np.int64]) -> _Positions:
        lengths = np.diff(starts)
        order = np.argsort(-lengths, kind="stable")
        first, ordered = starts[:-1][order], lengths[order]
        longest = int(ordered[0]) if len(ordered) else 0
        counts = [int(np.searchsorted(-ordered, -p, side="right")) for p in range(1, longest + 1)]
        return cls([first[:count] + p for p, count in enumerate(counts)])


def _forward_backward(
    likelihood: Posteriors, positions: _Positions, start: Posteriors, transition: Posteriors
) -> tuple[Posteriors, Posteriors, float]:
    """Token posteriors, expected transition counts and the log-likelihood (scaled forward-backward)."""
    alpha = np.zeros_like(likelihood)
    scale = np.ones(len(likelihood))
    for p, index in enumerate(positions.steps):
        prior = start[None, :] if p == 0 else alpha[positions.steps[p - 1][: len(index)]] @ transition
        values = prior * likelihood[index]
        scale[index] = values.sum(axis=1)
        alpha[index] = values / np.maximum(scale[index], 1e-300)[:, None]
    beta = np.ones_like(likelihood)
    counts = np.zeros_like(transition)
    for p in range(len(positions.steps) - 2, -1, -1):
        nxt = positions.steps[p + 1]
        here = positions.steps[p][: len(nxt)]
        weighted = likelihood[nxt] * beta[nxt] / np.maximum(scale[nxt], 1e-300)[:, None]
        beta[here] = weighted @ transition.T
        counts += transition * (alpha[here].T @ weighted)
    gamma = alpha * beta
    gamma /= np.maximum(gamma.sum(axis=1, keepdims=True), 1e-300)
    return gamma, counts, float(np.log(np.maximum(scale, 1e-300)).sum())


def _one_hot(votes: npt.NDArray[np.int64], s: int) -> sparse.csr_matrix:
    """Each token's tags as indicators, a block of s columns per LF (column c*s + tag)."""
    n, m = votes.shape
    columns = (np.arange(m)[None, :] * s + votes).reshape(-1)
    rows = np.repeat(np.arange(n), m)
    return sparse.csr_matrix((np.ones(n * m), (rows, columns)), shape=(n, m * s))


def _emission_counts(indicators: sparse.csr_matrix, gamma: Posteriors, m: int, s: int) -> Posteriors:
    """Per LF, the expected count of each (true tag, its tag) pair: (LF, true tag, its tag)."""
    counts: Posteriors = np.asarray(indicators.T @ gamma, dtype=np.float64)
    return counts.reshape(m, s, s).transpose(0, 2, 1)


def _emission_table(counts: Posteriors, emits: Bools) -> npt.NDArray[np.float64]:
    """Per LF, P(its tag | true tag) from counts (pseudo-counts included), rows normalised; an LF's O under a
    type it never marks scores as its O under O."""
    table: npt.NDArray[np.float64] = counts / counts.sum(axis=2, keepdims=True)
    blind = ~np.repeat(emits, 2, axis=1)  # per LF and B-/I- state: a type the LF never marks
    table[:, 1:, 0] = np.where(blind, table[:, :1, 0], table[:, 1:, 0])
    return table


def _likelihood(votes: npt.NDArray[np.int64], table: npt.NDArray[np.float64]) -> tuple[Posteriors, float]:
    """P(the LFs' tags | each true tag) per token, scaled by its largest (the log of the scale summed over
    the tokens is returned with it)."""
    logs = np.log(table).transpose(0, 2, 1)  # (LF, its tag, true tag)
    log = np.zeros((len(votes), table.shape[1]))
    for column in range(votes.shape[1]):
        log += logs[column][votes[:, column]]
    top = log.max(axis=1, keepdims=True)
    return np.exp(log - top), float(top.sum())


def _transitions_fit(
    counts: Posteriors, first: Posteriors, allowed: Bools, start_allowed: Bools
) -> tuple[Posteriors, Posteriors]:
    transition = np.where(allowed, counts + HMM_SMOOTHING, 0.0)
    transition /= transition.sum(axis=1, keepdims=True)
    start = np.where(start_allowed, first + HMM_SMOOTHING, 0.0)
    return start / start.sum(), transition


def hmm(tokens: TokenVotes, gold: Codes | None = None) -> TokenAnswer:
    """The HMM's posterior tags (see the module's docstring); unsupervised: `gold` is not read."""
    votes, k = tokens.votes.astype(np.int64), tokens.k
    s = tag_count(k)
    if not len(votes):
        return TokenAnswer(tags=np.zeros(0, np.int8), posteriors=np.zeros((0, s)))
    live = [
        c for c in range(votes.shape[1]) if (votes[:, c] != 0).any()
    ]  # an LF that never tags says nothing
    votes = votes[:, live]
    emits = np.zeros((len(live), k), dtype=bool)
    for position, column in enumerate(votes.T):
        emits[position, (np.unique(column[column > 0]) - 1) // 2] = True
    indicators = _one_hot(votes, s)
    allowed, start_allowed = allowed_transitions(k)
    positions = _Positions.of(tokens.starts)
    gamma = majority_vote(tokens).posteriors
    # The first M step reads majority vote's tags as the tag sequence.
    tags = gamma.argmax(axis=1)
    counts = np.zeros((s, s))
    for p in range(1, len(positions.steps)):
        here, before = positions.steps[p], positions.steps[p - 1][: len(positions.steps[p])]
        np.add.at(counts, (tags[before], tags[here]), 1.0)
    m = votes.shape[1]
    # The priors: smoothing, a diagonal, and majority vote's own counts (anchoring EM near its start).
    emission_prior = (
        HMM_SMOOTHING
        + HMM_DIAGONAL * np.eye(s)[None, :, :]
        + HMM_ANCHOR * _emission_counts(indicators, gamma, m, s)
    )
    transition_prior = HMM_ANCHOR * counts
    previous = -np.inf
    for _ in range(HMM_ITERATIONS):
        first = gamma[positions.steps[0]].sum(axis=0) if positions.steps else np.zeros(s)
        start, transition = _transitions_fit(counts + transition_prior, first, allowed, start_allowed)
        table = _emission_table(_emission_counts(indicators, gamma, m, s) + emission_prior, emits)
        likelihood, offset = _likelihood(votes, table)
        gamma, counts, log_likelihood = _forward_backward(likelihood, positions, start, transition)
        log_likelihood += offset
        if abs(log_likelihood - previous) <= HMM_TOLERANCE * len(votes):
            break
        previous = log_likelihood
    return TokenAnswer(tags=gamma.argmax(axis=1).astype(np.int8), posteriors=gamma)


# --- choosing on held-out gold ------------------------------------------------------------------------------
Fit = Callable[[TokenVotes, "Codes | None"], TokenAnswer]


@dataclass(frozen=True)
class SpanCandidate:
    name: str
    fit: Fit
    needs_gold: int  # fitting gold items it needs (0: it reads none)


SPAN_CANDIDATES = (
    SpanCandidate("majority_vote", majority_vote, 0),
    SpanCandidate("weighted_vote", weighted_vote, MIN_WEIGHT_GOLD),
    SpanCandidate("hmm", hmm, 0),
)
assert tuple(candidate.name for candidate in SPAN_CANDIDATES) == SPAN_AGGREGATOR_NAMES


@dataclass
class SpanGold:
    """Gold spans per item (item positions in the run's order) that may fit and choose: usable gold only."""

    spans: dict[int, list[SpanKey]]

    def codes(self, tokens: TokenVotes, types: Sequence[str], items: Sequence[int] | None = None) -> Codes:
        """Each token's gold tag code; -1 for tokens of items without gold (or not among `items`)."""
        index = {kind: position for position, kind in enumerate(types)}
        codes = np.full(len(tokens.votes), -1, dtype=np.int8)
        for item in self.spans if items is None else items:
            spans: list[SpanDict] = [
                {"start": start, "end": end, "label": kind, "text": ""}
                for start, end, kind in self.spans[item]
            ]
            codes[tokens.starts[item] : tokens.starts[item + 1]] = spans_to_codes(
                tokens.item_offsets(item), spans, index
            )
        return codes


def span_scores(gold: Sequence[Sequence[SpanKey]], predicted: Sequence[Sequence[SpanKey]]) -> dict[str, Any]:
    """Exact-match micro precision, recall and F1 (with tp, fp, fn) and the same per type, rounded."""

    def dicts(items: Sequence[Sequence[SpanKey]]) -> list[list[dict[str, Any]]]:
        return [[{"start": s, "end": e, "label": kind} for s, e, kind in spans] for spans in items]

    found = span_prf(dicts(gold), dicts(predicted), match="exact")
    micro = found.micro.rounded()
    return {
        "precision": micro.precision, "recall": micro.recall, "f1": micro.f1,
        "tp": micro.tp, "fp": micro.fp, "fn": micro.fn, "n_items": len(gold),
        "per_type": {
            kind: {"precision": prf.precision, "recall": prf.recall, "f1": prf.f1, "support": prf.tp + prf.fn}
            for kind, prf in ((kind, figures.rounded()) for kind, figures in found.per_type.items())
        },
    }  # fmt: skip


def _f1(gold: Sequence[Sequence[SpanKey]], predicted: Sequence[Sequence[SpanKey]]) -> float:
    return float(span_scores(gold, predicted)["f1"])


@dataclass
class SpanSelection:
    """The chosen aggregator, how it was chosen, and every candidate's answer refitted on all usable gold."""

    name: str
    selected_on: str
    scores: dict[str, float]
    n_heldout: int
    n_heldout_spans: int
    answers: dict[str, TokenAnswer]
    skipped: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "selected_on": self.selected_on, "metric": SELECTION_METRIC,
            "scores": self.scores, "n_heldout": self.n_heldout, "n_heldout_spans": self.n_heldout_spans,
            "params": {}, "skipped": self.skipped, "tie_rule": TIE_RULE,
        }  # fmt: skip


def fold_of_ids(ids: npt.NDArray[np.int64], folds: int = CV_FOLDS) -> npt.NDArray[np.int64]:
    """A fixed fold per item from its id (the same split-mix hash as the item aggregators' folds)."""
    mixed = ids.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    mixed ^= mixed >> np.uint64(31)
    mixed *= np.uint64(0xBF58476D1CE4E5B9)
    mixed ^= mixed >> np.uint64(29)
    return ((mixed >> np.uint64(11)) % np.uint64(folds)).astype(np.int64)


def _simplest_within_tie(scores: dict[str, float], n_spans: int) -> str:
    if not scores:
        return DEFAULT_AGGREGATOR
    best = max(scores.values())
    tolerance = 1.0 / max(n_spans, 1)
    return next(name for name in SPAN_AGGREGATOR_NAMES if name in scores and scores[name] >= best - tolerance)


def span_aggregator_select(
    *, tokens: TokenVotes, types: Sequence[str], gold: SpanGold, valid: Bools, ids: npt.NDArray[np.int64]
) -> SpanSelection:
    """Fits every candidate, scores each on held-out usable gold, chooses one (see the module's docstring)
    and refits every candidate on all usable gold. `valid`: per item, whether it is in the valid split."""
    gold_items = sorted(gold.spans)
    valid_gold = [item for item in gold_items if valid[item]]
    other_gold = [item for item in gold_items if not valid[item]]
    scores: dict[str, float] = {}
    unsupervised: dict[str, TokenAnswer] = {}
    held: list[int] = []
    if len(valid_gold) >= MIN_HELDOUT:
        selected_on, held = "valid", valid_gold
        fit_codes = gold.codes(tokens, types, other_gold)
        for candidate in SPAN_CANDIDATES:
            if len(other_gold) < candidate.needs_gold:
                continue
            answer = candidate.fit(tokens, fit_codes)
            if not candidate.needs_gold:
                unsupervised[candidate.name] = answer
            scores[candidate.name] = _f1(
                [gold.spans[i] for i in held], item_spans(tokens, answer.tags, types, held)
            )
    elif len(gold_items) >= MIN_CV_GOLD:
        selected_on, held = "cross_validation", gold_items
        folds = fold_of_ids(ids[np.asarray(gold_items, dtype=np.int64)])
        truth = [gold.spans[i] for i in held]
        for candidate in SPAN_CANDIDATES:
            if len(gold_items) * (CV_FOLDS - 1) / CV_FOLDS < candidate.needs_gold:
                continue
            predicted: list[list[SpanKey]] = [[] for _ in held]
            if not candidate.needs_gold:
                answer = unsupervised[candidate.name] = candidate.fit(tokens, None)
                predicted = item_spans(tokens, answer.tags, types, held)
            else:
                for fold in range(CV_FOLDS):
                    out = [position for position, f in enumerate(folds.tolist()) if f == fold]
                    if not out:
                        continue
                    fitting = [item for position, item in enumerate(held) if folds[position] != fold]
                    answer = candidate.fit(tokens, gold.codes(tokens, types, fitting))
                    for position, spans in zip(
                        out, item_spans(tokens, answer.tags, types, [held[p] for p in out]), strict=True
                    ):
                        predicted[position] = spans
            scores[candidate.name] = _f1(truth, predicted)
    else:
        selected_on = "default"
    n_spans = sum(len(gold.spans[item]) for item in held)
    name = _simplest_within_tie(scores, n_spans) if scores else DEFAULT_AGGREGATOR
    all_codes = gold.codes(tokens, types)
    answers: dict[str, TokenAnswer] = {}
    skipped: dict[str, str] = {}
    for candidate in SPAN_CANDIDATES:
        if len(gold_items) < candidate.needs_gold:
            skipped[candidate.name] = (
                f"{len(gold_items)} usable gold item(s); it needs at least {candidate.needs_gold}"
            )
            continue
        answers[candidate.name] = unsupervised.get(candidate.name) or candidate.fit(tokens, all_codes)
    return SpanSelection(
        name=name, selected_on=selected_on, scores={key: round(value, 4) for key, value in scores.items()},
        n_heldout=len(held), n_heldout_spans=n_spans, answers=answers, skipped=skipped,
    )  # fmt: skip
