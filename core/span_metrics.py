"""Span scores: precision, recall and F1 between span answers, pairwise F1 between annotators, and Krippendorff's
alpha over tokens. Pure Python and numpy on core.spans dicts: no Django, no database.

Matching. *Exact*: a predicted span matches a gold span with the same start, end and label (the CoNLL /
seqeval rule). *Overlap*: the same label and at least one character in common, each span matched at most once
(a maximum one-to-one matching per item and label, so a long span covering two short ones counts once).

Micro figures add tp, fp and fn over every item (and, per type, over the spans of that type), then
precision = tp / (tp + fp), recall = tp / (tp + fn), F1 = 2 tp / (2 tp + fp + fn). Where there is nothing to
count (no gold and no predicted span: both say "no entities"), the two agree perfectly, so precision, recall
and F1 are 1.0; where only one side has spans, the empty side's figure is 0.0 and so is F1. F1 is symmetric:
swapping gold and predicted swaps fp and fn, so pairwise F1 between two annotators needs no reference.

Token alpha: each token of each item is a unit, valued by the entity type covering it (O for none: a token
belongs to a span that covers any of it, as core.spans.bio_tags reads it), rated by the annotators who
answered the item; Krippendorff's alpha (nominal) over those units, through the `krippendorff` package.
Undefined (fewer than two ratings of any token, or every rating the same value) gives None.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, TypeVar

import krippendorff
import numpy as np
import numpy.typing as npt

from core.spans import OUTSIDE, SpanDict, TokenOffsets, bio_tags

Match = Literal["exact", "overlap"]
MATCHES: tuple[Match, ...] = ("exact", "overlap")
SpanKey = tuple[int, int, str]  # start, end, label
DECIMALS = 4
ItemKey = TypeVar("ItemKey", bound=Hashable)


@dataclass(frozen=True)
class Prf:
    """Counts and figures of one comparison (micro over items, or one type's)."""

    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float

    @classmethod
    def of(cls, tp: int, fp: int, fn: int) -> Prf:
        """Figures from counts; nothing on either side counts as perfect agreement (see the module doc)."""
        precision = tp / (tp + fp) if tp + fp else (1.0 if fn == 0 else 0.0)
        recall = tp / (tp + fn) if tp + fn else (1.0 if fp == 0 else 0.0)
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
        return cls(tp=tp, fp=fp, fn=fn, precision=precision, recall=recall, f1=f1)

    def rounded(self) -> Prf:
        return Prf(
            tp=self.tp, fp=self.fp, fn=self.fn, precision=round(self.precision, DECIMALS),
            recall=round(self.recall, DECIMALS), f1=round(self.f1, DECIMALS),
        )  # fmt: skip


@dataclass(frozen=True)
class SpanScores:
    """Micro figures over the items and per type (types in sorted order), for one matching rule."""

    match: Match
    n_items: int
    micro: Prf
    per_type: dict[str, Prf]

    def to_json(self) -> dict[str, Any]:
        return {
            "match": self.match,
            "n_items": self.n_items,
            **asdict(self.micro),
            "per_type": {label: asdict(figures) for label, figures in self.per_type.items()},
        }


@dataclass(frozen=True)
class PairSpanF1:
    """Two annotators (a before b, as given) over the items both answered: micro F1 per matching rule, and per
    type F1 (exact match) for the types either of them marked."""

    a: str
    b: str
    n_items: int
    exact: Prf
    overlap: Prf
    per_type: dict[str, float]


def span_key(span: Mapping[str, Any]) -> SpanKey:
    return int(span["start"]), int(span["end"]), str(span["label"])


def _match_overlap(gold: Sequence[SpanKey], predicted: Sequence[SpanKey]) -> int:
    """The most one-to-one pairs of spans that share a character (Kuhn's augmenting paths: an item holds a
    handful of spans of one type, so the quadratic search costs nothing)."""
    edges = [
        [j for j, (start, end, _) in enumerate(predicted) if start < g_end and g_start < end]
        for g_start, g_end, _ in gold
    ]
    owner: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for j in edges[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    return sum(augment(i, set()) for i in range(len(gold)))


def _item_counts(
    gold: Sequence[Mapping[str, Any]], predicted: Sequence[Mapping[str, Any]], match: Match
) -> dict[str, tuple[int, int, int]]:
    """Per type: (tp, fp, fn) of one item. Repeated identical spans count as many times as they are given."""
    by_type: dict[str, tuple[list[SpanKey], list[SpanKey]]] = defaultdict(lambda: ([], []))
    for span in gold:
        by_type[str(span["label"])][0].append(span_key(span))
    for span in predicted:
        by_type[str(span["label"])][1].append(span_key(span))
    counts = {}
    for label, (gold_keys, predicted_keys) in by_type.items():
        if match == "exact":
            tp = sum((Counter(gold_keys) & Counter(predicted_keys)).values())
        else:
            tp = _match_overlap(gold_keys, predicted_keys)
        counts[label] = (tp, len(predicted_keys) - tp, len(gold_keys) - tp)
    return counts


def span_prf(
    gold: Sequence[Sequence[Mapping[str, Any]]],
    predicted: Sequence[Sequence[Mapping[str, Any]]],
    *,
    match: Match = "exact",
) -> SpanScores:
    """Micro and per-type precision, recall and F1 of `predicted` against `gold`, one span list per item (the
    two lists of lists in the same item order). Figures unrounded."""
    if len(gold) != len(predicted):
        raise ValueError(
            f"{len(gold)} gold items but {len(predicted)} predicted: give one span list per item."
        )
    if match not in MATCHES:
        raise ValueError(f"Unknown match '{match}': exact or overlap.")
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for gold_spans, predicted_spans in zip(gold, predicted, strict=True):
        for label, counts in _item_counts(gold_spans, predicted_spans, match).items():
            total = totals[label]
            for index, count in enumerate(counts):
                total[index] += count
    tp, fp, fn = (sum(total[index] for total in totals.values()) for index in range(3))
    return SpanScores(
        match=match,
        n_items=len(gold),
        micro=Prf.of(tp, fp, fn),
        per_type={label: Prf.of(*totals[label]) for label in sorted(totals)},
    )


def span_f1(
    gold: Sequence[Mapping[str, Any]], predicted: Sequence[Mapping[str, Any]], *, match: Match = "exact"
) -> float:
    """F1 of one item's spans: 1.0 when both are empty (they agree there is nothing), 0.0 when one is."""
    return span_prf([gold], [predicted], match=match).micro.f1


def pairwise_span_f1(
    answers: Mapping[str, Mapping[ItemKey, Sequence[Mapping[str, Any]]]],
) -> list[PairSpanF1]:
    """For every two annotators (in the mapping's order) who answered an item in common, their span F1 over
    the items both answered, exact and overlapping match. `answers`: annotator -> item -> spans. With one
    annotator, or none sharing an item, the list is empty."""
    pairs = []
    for a, b in itertools.combinations(answers, 2):
        shared = [item for item in answers[a] if item in answers[b]]
        if not shared:
            continue
        first = [answers[a][item] for item in shared]
        second = [answers[b][item] for item in shared]
        exact = span_prf(first, second, match="exact")
        overlap = span_prf(first, second, match="overlap")
        pairs.append(
            PairSpanF1(
                a=a, b=b, n_items=len(shared), exact=exact.micro, overlap=overlap.micro,
                per_type={label: figures.f1 for label, figures in exact.per_type.items()},
            )
        )  # fmt: skip
    return pairs


def token_types(offsets: TokenOffsets, spans: Sequence[SpanDict]) -> list[str]:
    """Per token, the entity type covering it, or O (core.spans.bio_tags without the B-/I- prefixes)."""
    return [tag if tag == OUTSIDE else tag[2:] for tag in bio_tags(offsets, spans)]


def token_alpha(
    units: Sequence[Mapping[str, Sequence[SpanDict]]], offsets: Sequence[TokenOffsets]
) -> float | None:
    """Krippendorff's alpha (nominal) over tokens: `units[i]` maps each annotator who answered item i to their
    spans, `offsets[i]` are item i's tokens. None where alpha is undefined (see the module doc).

    The reliability data is given to `krippendorff` as value counts (tokens x values: how many annotators
    gave each value), which is what it builds from an annotators x tokens matrix anyway; the counts grow with
    the tokens, not with annotators x tokens, and cost no NaN cells for the items an annotator left alone.
    """
    if len(units) != len(offsets):
        raise ValueError(f"{len(units)} items but {len(offsets)} token lists: give one per item.")
    values: dict[str, int] = {OUTSIDE: 0}
    rows: list[npt.NDArray[np.int64]] = []  # per item: raters x tokens of type codes
    for unit, tokens in zip(units, offsets, strict=True):
        if len(unit) < 2 or not tokens:
            continue  # a token rated once agrees with nobody
        codes = np.array(
            [[values.setdefault(kind, len(values)) for kind in token_types(tokens, list(spans))]
             for spans in unit.values()],
            dtype=np.int64,
        )  # fmt: skip
        rows.append(codes)
    if not rows:
        return None
    counts = np.zeros((sum(codes.shape[1] for codes in rows), len(values)), dtype=np.int64)
    start = 0
    for codes in rows:
        width = codes.shape[1]
        positions = np.arange(start, start + width)
        for rater in codes:
            counts[positions, rater] += 1  # one rating per token per rater: no repeated index
        start += width
    if np.count_nonzero(counts.sum(axis=0)) < 2:
        return None  # one value everywhere: no disagreement is possible, alpha is 0/0
    alpha = float(krippendorff.alpha(value_counts=counts, level_of_measurement="nominal"))
    return alpha if math.isfinite(alpha) else None
