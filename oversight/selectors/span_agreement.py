"""Inter-annotator agreement of a span project: span F1 between annotators, and Krippendorff's alpha on tokens.

Only items with at least two answers count, as for item labels; an answer without spans says "no entities" and
counts (two annotators who both mark nothing agree). Annotators are keyed as in the item-label report
(oversight.selectors.annotators).

- Pairs: for every two annotators, their span F1 over the items both answered, exact match (same start, end
  and type) and overlapping match (same type, a character in common, one-to-one), core.span_metrics.
- Overall and per type: the same F1 with every pair's items pooled (tp, fp and fn added over all pairs and
  items): pairs that share many items weigh more, as they say more. F1 needs no reference: it is symmetric.
- Alpha: Krippendorff's alpha (nominal) over the tokens of those items (the import's tokens, else the
  platform's tokenizer), each token valued by the type covering it or O.

Figures are rounded to 4 places, None where undefined. The JSON keeps the item-label report's headline keys
(`percent_agreement`, `cohen_kappa_mean`, `fleiss_kappa`: null here) so that readers of either shape, such as
a snapshot's manifest, find them.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import Count, Subquery

from core.span_metrics import Prf, SpanScores, pairwise_span_f1, span_prf, token_alpha
from core.spans import SpanDict, TokenOffsets, token_offsets_of
from labeling.models import Annotation
from oversight.selectors.annotators import annotator_identity
from projects.models import Item, Project

DECIMALS = 4
ItemAnswers = dict[str, list[SpanDict]]  # one item: annotator key -> their spans


@dataclass(frozen=True)
class SpanTypeAgreement:
    """One entity type, over every pair's shared items: F1 by each matching rule and the spans marked."""

    n_spans: int
    exact_f1: float | None
    overlap_f1: float | None


@dataclass(frozen=True)
class SpanPairAgreement:
    """Two annotators (a before b by display name) over the items both answered."""

    a: str
    b: str
    a_key: str
    b_key: str
    n_items: int
    exact_f1: float
    overlap_f1: float
    per_type: dict[str, float]  # exact F1 per type either of them marked


@dataclass(frozen=True)
class SpanAgreementReport:
    """A span project's agreement (see the module docstring); `kind` is "spans" in its JSON."""

    n_items: int
    n_annotators: int
    n_tokens: int
    exact_f1: float | None
    overlap_f1: float | None
    exact_f1_mean: float | None  # the plain mean over pairs
    overlap_f1_mean: float | None
    krippendorff_alpha: float | None
    per_type: dict[str, SpanTypeAgreement]
    pairs: tuple[SpanPairAgreement, ...]
    kind: str = field(default="spans")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["pairs"] = [asdict(pair) for pair in self.pairs]
        # The item-label report's headline keys, undefined for spans.
        data.update(percent_agreement=None, cohen_kappa_mean=None, fleiss_kappa=None, multi_label=False)
        data["over_time"] = []
        return data


@dataclass(frozen=True)
class _Loaded:
    units: list[ItemAnswers]
    offsets: list[TokenOffsets]
    names: dict[str, str]  # annotator key -> display name


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, DECIMALS)


def _load(project: Project) -> _Loaded:
    """Every answer's spans on items answered at least twice, by item and annotator, with the items' tokens."""
    paired = (
        Annotation.objects.filter(project=project)
        .values("item_id")
        .annotate(n=Count("id"))
        .filter(n__gte=2)
        .values("item_id")
    )
    rows = (
        Annotation.objects.filter(project=project, item_id__in=Subquery(paired))
        .order_by("item_id", "created_at", "id")
        .values_list("item_id", "annotator_id", "annotator__username", "external_annotator", "spans")
    )
    units: dict[int, ItemAnswers] = defaultdict(dict)
    names: dict[str, str] = {}
    for item_id, annotator_id, username, external, spans in rows.iterator(chunk_size=5000):
        key, name = annotator_identity(annotator_id, username, external)
        names[key] = name
        units[item_id][key] = list(spans or [])  # oldest first: a repeated annotator's latest answer wins
    kept = [item_id for item_id, unit in units.items() if len(unit) >= 2]
    tokens = {
        item_id: token_offsets_of(text, stored)
        for item_id, text, stored in Item.objects.filter(pk__in=kept)
        .values_list("id", "text", "token_offsets")
        .iterator(chunk_size=5000)
    }
    return _Loaded(
        units=[units[item_id] for item_id in kept], offsets=[tokens[item_id] for item_id in kept], names=names
    )


def _ordered(loaded: _Loaded) -> dict[str, dict[int, list[SpanDict]]]:
    """annotator key -> item index -> spans, annotators in display-name order (pairs come out a before b)."""
    answers: dict[str, dict[int, list[SpanDict]]] = defaultdict(dict)
    for index, unit in enumerate(loaded.units):
        for key, spans in unit.items():
            answers[key][index] = spans
    return {key: answers[key] for key in sorted(answers, key=lambda key: (loaded.names[key], key))}


def _pooled(units: Sequence[ItemAnswers], order: Mapping[str, int]) -> tuple[SpanScores, SpanScores]:
    """Exact and overlapping F1 with every pair of every item pooled (a before b in `order`)."""
    first: list[list[SpanDict]] = []
    second: list[list[SpanDict]] = []
    for unit in units:
        for a, b in itertools.combinations(sorted(unit, key=order.__getitem__), 2):
            first.append(unit[a])
            second.append(unit[b])
    return span_prf(first, second, match="exact"), span_prf(first, second, match="overlap")


def _type_rows(
    exact: SpanScores, overlap: SpanScores, label_keys: Sequence[str]
) -> dict[str, SpanTypeAgreement]:
    """Every schema type (and any other type found in answers, after them): None F1 where nobody marked it."""
    rows = {}
    for key in [*label_keys, *(key for key in exact.per_type if key not in label_keys)]:
        figures: Prf | None = exact.per_type.get(key)
        loose = overlap.per_type.get(key)
        rows[key] = SpanTypeAgreement(
            n_spans=2 * figures.tp + figures.fp + figures.fn if figures else 0,
            exact_f1=_rounded(figures.f1) if figures else None,
            overlap_f1=_rounded(loose.f1) if loose else None,
        )
    return rows


def _mean(values: Sequence[float]) -> float | None:
    return _rounded(math.fsum(values) / len(values)) if values else None


def span_agreement_compute(*, project: Project) -> SpanAgreementReport:
    """The span project's agreement report, worked out from every annotation (see the module docstring)."""
    label_keys = list(project.labels.order_by("order", "id").values_list("key", flat=True))
    loaded = _load(project)
    answers = _ordered(loaded)
    order = {key: index for index, key in enumerate(answers)}
    computed = pairwise_span_f1(answers)
    pairs = tuple(
        SpanPairAgreement(
            a=loaded.names[pair.a], b=loaded.names[pair.b], a_key=pair.a, b_key=pair.b, n_items=pair.n_items,
            exact_f1=round(pair.exact.f1, DECIMALS), overlap_f1=round(pair.overlap.f1, DECIMALS),
            per_type={key: round(f1, DECIMALS) for key, f1 in pair.per_type.items()},
        )
        for pair in computed
    )  # fmt: skip
    exact, overlap = _pooled(loaded.units, order)
    paired = bool(loaded.units)
    return SpanAgreementReport(
        n_items=len(loaded.units),
        n_annotators=len(answers),
        n_tokens=sum(len(tokens) for tokens in loaded.offsets),
        exact_f1=_rounded(exact.micro.f1) if paired else None,
        overlap_f1=_rounded(overlap.micro.f1) if paired else None,
        exact_f1_mean=_mean([pair.exact.f1 for pair in computed]),
        overlap_f1_mean=_mean([pair.overlap.f1 for pair in computed]),
        krippendorff_alpha=_rounded(token_alpha(loaded.units, loaded.offsets)),
        per_type=_type_rows(exact, overlap, label_keys),
        pairs=pairs,
    )
