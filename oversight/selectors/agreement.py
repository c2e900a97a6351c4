"""Inter-annotator agreement of a project: overall, per label, per annotator pair and per week.

Only items with at least two ratings count (an item rated once agrees with nobody). An annotator is a user
(key `user:<id>`, shown by username) or a name from an imported file's annotator column (key `ext:<name>`,
`ext:import` when the column was blank).

Single-label projects: an annotation's category is its label. `per_label` binarises every label (the label or
not), which shows which classes people confuse.

Multi-label projects: every label is a binary variable per annotation (present or not) and `per_label` gives
its figures; the overall kappas and alpha are the means of the per-label figures (labels whose figure is
undefined are skipped). Percent agreement, overall, per pair and per week, is exact-set agreement instead: the
share of rater pairs that gave the very same set of labels. The mean of per-label percent agreement would be
inflated by rare labels, which nearly everyone leaves out everywhere.

Span projects get another report, span F1 between annotators and alpha over tokens
(oversight.selectors.span_agreement), from the same `agreement_get`.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from django.core.cache import cache
from django.db.models import Count, Max, Subquery
from django.db.models.functions import TruncDate

from labeling.models import Annotation
from oversight.measures import (
    category_counts,
    cohen_kappa_codes,
    fleiss_kappa,
    krippendorff_alpha_from_counts,
    percent_agreement_from_counts,
)
from oversight.selectors.annotators import annotator_identity
from oversight.selectors.span_agreement import SpanAgreementReport, span_agreement_compute
from projects.models import Project

# Bump when the report's shape or maths change: cached reports of the old version are then never read.
AGREEMENT_CACHE_VERSION = 1
# The key changes with every change to the project's annotations, so this only bounds how long a stale
# entry occupies the cache.
AGREEMENT_CACHE_SECONDS = 24 * 3600
DECIMALS = 4

LabelSet = tuple[str, ...]  # sorted, without repeats: equal tuples are equal sets
Ratings = dict[str, LabelSet]  # one item: annotator key -> the labels they gave
Codes = npt.NDArray[np.int64]
PairRatings = tuple[Codes, Codes]  # one pair: the codes (see _Pairs) of what each gave, item by item


@dataclass(frozen=True)
class LabelAgreement:
    """Agreement on one variable (one label, present or not) over the items rated at least twice."""

    n_items: int
    percent_agreement: float | None
    cohen_kappa_mean: float | None
    fleiss_kappa: float | None
    krippendorff_alpha: float | None


@dataclass(frozen=True)
class PairAgreement:
    """Two annotators (a before b by display name) over the items both rated."""

    a: str
    b: str
    a_key: str
    b_key: str
    n_items: int
    percent_agreement: float | None
    cohen_kappa: float | None


@dataclass(frozen=True)
class PeriodAgreement:
    """The items whose latest annotation falls in one ISO week."""

    period: str  # the Monday of the ISO week, YYYY-MM-DD
    n_items: int
    percent_agreement: float | None
    krippendorff_alpha: float | None


@dataclass(frozen=True)
class AgreementReport:
    """A project's agreement; figures rounded to 4 places, None where undefined (to_json gives null).

    n_items: items rated at least twice; n_annotators: annotators with a rating on at least one of them.
    """

    n_items: int
    n_annotators: int
    percent_agreement: float | None
    cohen_kappa_mean: float | None
    fleiss_kappa: float | None
    krippendorff_alpha: float | None
    per_label: dict[str, LabelAgreement]
    pairs: tuple[PairAgreement, ...]
    over_time: tuple[PeriodAgreement, ...]
    multi_label: bool

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["pairs"] = [asdict(pair) for pair in self.pairs]
        data["over_time"] = [asdict(period) for period in self.over_time]
        return data


@dataclass(frozen=True)
class _Loaded:
    """The items rated at least twice, each as its ratings and when its latest annotation was made."""

    units: list[Ratings]
    latest: list[date]
    names: dict[str, str]  # annotator key -> display name


@dataclass(frozen=True)
class _Pairs:
    """Every annotator pair's ratings side by side, as codes of the distinct label sets given in the project."""

    sets: list[LabelSet]  # code -> label set
    ratings: dict[tuple[str, str], PairRatings]

    def variable(self, key: str | None) -> Codes:
        """A lookup from label-set code to the code of a variable: the set itself (None), or one label's
        presence (1) or absence (0)."""
        if key is None:
            return np.arange(len(self.sets), dtype=np.int64)
        return np.fromiter((key in labels for labels in self.sets), dtype=np.int64, count=len(self.sets))


@dataclass(frozen=True)
class _Matrices:
    """Count matrices over the loaded units (one row each), built in one pass and sliced for weeks and labels."""

    sets: npt.NDArray[np.int64]  # units x distinct label sets: raters who gave that set
    presence: npt.NDArray[np.int64]  # units x schema labels: raters who gave that label
    raters: npt.NDArray[np.int64]  # units: raters

    def label(self, column: int, rows: npt.NDArray[np.intp] | slice = slice(None)) -> npt.NDArray[np.int64]:
        """One label as a binary variable: units x (raters who gave it, raters who did not)."""
        present = self.presence[rows, column]
        return np.column_stack((present, self.raters[rows] - present))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, DECIMALS)


def _mean(values: Iterable[float | None]) -> float | None:
    defined = [value for value in values if value is not None]
    return math.fsum(defined) / len(defined) if defined else None


def _load(project: Project) -> _Loaded:
    """Every annotation's labels, by item and annotator (a repeated annotator on an item: the latest wins)."""
    units: dict[int, Ratings] = defaultdict(dict)
    names: dict[str, str] = {}
    # Only items rated at least twice can agree or disagree: the database leaves the rest out, which matters
    # for projects labeled once per item (a million annotations, none of them paired).
    paired = (
        Annotation.objects.filter(project=project)
        .values("item_id")
        .annotate(n=Count("id"))
        .filter(n__gte=2)
        .values("item_id")
    )
    annotations = Annotation.objects.filter(project=project, item_id__in=Subquery(paired))
    rows = annotations.order_by("item_id", "created_at", "id").values_list(
        "item_id", "annotator_id", "annotator__username", "external_annotator", "labels"
    )
    for item_id, annotator_id, username, external, labels in rows.iterator(chunk_size=5000):
        if not labels and not project.multi_label:
            continue  # no answer to compare; in a multi-label project, "none of the labels" is an answer
        key, name = annotator_identity(annotator_id, username, external)
        names[key] = name
        units[item_id][key] = tuple(sorted(set(labels)))  # rows come oldest first within an item
    # The day (in the project's time zone) of each item's latest annotation, worked out by the database:
    # parsing a timestamp per annotation in Python costs more than the rest of the load.
    latest = dict(
        annotations.values("item_id")
        .annotate(day=TruncDate(Max("created_at")))
        .order_by()
        .values_list("item_id", "day")
        .iterator(chunk_size=5000)
    )
    kept = [item_id for item_id, unit in units.items() if len(unit) >= 2]
    return _Loaded(
        units=[units[item_id] for item_id in kept], latest=[latest[item_id] for item_id in kept], names=names
    )


def _matrices(units: Sequence[Ratings], label_keys: Sequence[str]) -> _Matrices:
    width = len(label_keys)
    column = {key: j for j, key in enumerate(label_keys)}
    cells: list[int] = []  # flat indices into the units x labels matrix, one per label given
    for i, unit in enumerate(units):
        for labels in unit.values():
            cells.extend(i * width + column[key] for key in labels if key in column)
    presence = np.bincount(np.asarray(cells, dtype=np.int64), minlength=len(units) * width)
    return _Matrices(
        sets=category_counts(units),
        presence=presence.astype(np.int64).reshape(len(units), width),
        raters=np.fromiter((len(unit) for unit in units), dtype=np.int64, count=len(units)),
    )


def _pair_ratings(units: Iterable[Ratings], names: Mapping[str, str]) -> _Pairs:
    """For every pair of annotators who rated an item in common, their labels side by side (a before b by name)."""
    codes: dict[LabelSet, int] = {}
    pairs: dict[tuple[str, str], tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for unit in units:
        keys = sorted(unit, key=lambda key: (names[key], key))
        coded = {key: codes.setdefault(unit[key], len(codes)) for key in keys}
        for a, b in itertools.combinations(keys, 2):
            first, second = pairs[a, b]
            first.append(coded[a])
            second.append(coded[b])
    return _Pairs(
        sets=list(codes),
        ratings={
            pair: (np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64))
            for pair, (first, second) in pairs.items()
        },
    )


def _pair_kappa(ratings: PairRatings, lookup: Codes) -> float | None:
    first, second = ratings
    return cohen_kappa_codes(lookup[first], lookup[second])


def _figures(counts: npt.NDArray[np.int64], kappas: Iterable[float | None]) -> LabelAgreement:
    """Unrounded figures of one variable (the label set, or one label's presence) from its count matrix."""
    return LabelAgreement(
        n_items=counts.shape[0],
        percent_agreement=percent_agreement_from_counts(counts),
        cohen_kappa_mean=_mean(kappas),
        fleiss_kappa=fleiss_kappa(counts),
        krippendorff_alpha=krippendorff_alpha_from_counts(counts),
    )


def _rounded_figures(figures: LabelAgreement) -> LabelAgreement:
    return LabelAgreement(
        n_items=figures.n_items,
        percent_agreement=_rounded(figures.percent_agreement),
        cohen_kappa_mean=_rounded(figures.cohen_kappa_mean),
        fleiss_kappa=_rounded(figures.fleiss_kappa),
        krippendorff_alpha=_rounded(figures.krippendorff_alpha),
    )


def _overall(
    matrices: _Matrices, pairs: _Pairs, per_label: Sequence[LabelAgreement], multi_label: bool
) -> LabelAgreement:
    if not multi_label:
        identity = pairs.variable(None)
        return _figures(matrices.sets, (_pair_kappa(ratings, identity) for ratings in pairs.ratings.values()))
    return LabelAgreement(
        n_items=matrices.sets.shape[0],
        percent_agreement=percent_agreement_from_counts(matrices.sets),
        cohen_kappa_mean=_mean(figures.cohen_kappa_mean for figures in per_label),
        fleiss_kappa=_mean(figures.fleiss_kappa for figures in per_label),
        krippendorff_alpha=_mean(figures.krippendorff_alpha for figures in per_label),
    )


def _pair(
    a: str, b: str, ratings: PairRatings, names: Mapping[str, str], lookups: Sequence[Codes], multi: bool
) -> PairAgreement:
    first, second = ratings
    agreeing = int(np.count_nonzero(first == second))
    # Multi-label: the mean of the per-label kappas; single-label: the kappa of the label itself.
    kappas = [_pair_kappa(ratings, lookup) for lookup in (lookups[1:] if multi else lookups[:1])]
    kappa = _mean(kappas)
    return PairAgreement(
        a=names[a], b=names[b], a_key=a, b_key=b, n_items=len(first),
        percent_agreement=_rounded(agreeing / len(first)), cohen_kappa=_rounded(kappa),
    )  # fmt: skip


def _pair_list(
    pairs: _Pairs, names: Mapping[str, str], label_keys: Sequence[str], multi: bool
) -> tuple[PairAgreement, ...]:
    lookups = [pairs.variable(None), *(pairs.variable(key) for key in label_keys)]
    result = [_pair(a, b, ratings, names, lookups, multi) for (a, b), ratings in pairs.ratings.items()]
    return tuple(sorted(result, key=lambda pair: (pair.a, pair.b, pair.a_key, pair.b_key)))


def _week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _over_time(loaded: _Loaded, matrices: _Matrices, multi: bool) -> tuple[PeriodAgreement, ...]:
    """Per ISO week (by its Monday), the items whose latest annotation falls in it, oldest week first."""
    weeks: dict[date, list[int]] = defaultdict(list)
    for row, moment in enumerate(loaded.latest):
        weeks[_week_of(moment)].append(row)
    periods = []
    for monday, row_list in sorted(weeks.items()):
        rows = np.asarray(row_list, dtype=np.intp)
        if multi:
            labels = range(matrices.presence.shape[1])
            alpha = _mean(krippendorff_alpha_from_counts(matrices.label(j, rows)) for j in labels)
        else:
            alpha = krippendorff_alpha_from_counts(matrices.sets[rows])
        agreement = percent_agreement_from_counts(matrices.sets[rows])
        periods.append(
            PeriodAgreement(
                period=monday.isoformat(),
                n_items=len(rows),
                percent_agreement=_rounded(agreement),
                krippendorff_alpha=_rounded(alpha),
            )
        )
    return tuple(periods)


def agreement_compute(*, project: Project) -> AgreementReport:
    """The project's agreement report, worked out from every annotation (see the module docstring)."""
    label_keys = list(project.labels.order_by("order", "id").values_list("key", flat=True))
    loaded = _load(project)
    matrices = _matrices(loaded.units, label_keys)
    pairs = _pair_ratings(loaded.units, loaded.names)
    per_label = {}
    for j, key in enumerate(label_keys):
        lookup = pairs.variable(key)
        kappas = (_pair_kappa(ratings, lookup) for ratings in pairs.ratings.values())
        per_label[key] = _figures(matrices.label(j), kappas)
    overall = _rounded_figures(_overall(matrices, pairs, list(per_label.values()), project.multi_label))
    return AgreementReport(
        n_items=overall.n_items,
        n_annotators=len({key for unit in loaded.units for key in unit}),
        percent_agreement=overall.percent_agreement,
        cohen_kappa_mean=overall.cohen_kappa_mean,
        fleiss_kappa=overall.fleiss_kappa,
        krippendorff_alpha=overall.krippendorff_alpha,
        per_label={key: _rounded_figures(figures) for key, figures in per_label.items()},
        pairs=_pair_list(pairs, loaded.names, label_keys, project.multi_label),
        over_time=_over_time(loaded, matrices, project.multi_label),
        multi_label=project.multi_label,
    )


def agreement_cache_key(*, project: Project) -> str:
    """A key that changes whenever the project's annotations change: added, edited or deleted (one query)."""
    stats = Annotation.objects.filter(project=project).aggregate(
        count=Count("id"), last_id=Max("id"), last_update=Max("updated_at")
    )
    last_update = stats["last_update"].isoformat() if stats["last_update"] else "-"
    return (
        f"labeling:agreement:v{AGREEMENT_CACHE_VERSION}:{project.pk}:{project.kind}:"
        f"{stats['count']}:{stats['last_id'] or 0}:{last_update}"
    )


def agreement_get(*, project: Project) -> AgreementReport | SpanAgreementReport:
    """The agreement report from the cache, computed only when the project's annotations have changed. Span
    projects get the span report (oversight.selectors.span_agreement) instead of the item-label one."""
    key = agreement_cache_key(project=project)
    report = cache.get(key)
    if isinstance(report, AgreementReport | SpanAgreementReport):
        return report
    report = (
        span_agreement_compute(project=project) if project.is_spans else agreement_compute(project=project)
    )
    cache.set(key, report, AGREEMENT_CACHE_SECONDS)
    return report
