"""Inter-annotator agreement maths: percent agreement, Cohen's and Fleiss' kappa, Krippendorff's alpha.

Pure functions on plain data, no ORM. A *unit* is one item's ratings: a mapping annotator key -> category,
where a category is any hashable value (a label key, True/False for one label of a multi-label schema, a
frozenset of label keys). Undefined figures come back as None, never NaN, so they serialise to JSON null.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence

import krippendorff
import numpy as np
import numpy.typing as npt

Unit = Mapping[str, Hashable]


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _pairable_rows(counts: npt.ArrayLike) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The rows of a units x categories count matrix with at least two ratings, and their rating totals."""
    matrix = np.asarray(counts, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError("Agreement needs a two-dimensional units x categories matrix of rating counts.")
    raters = matrix.sum(axis=1)
    return matrix[raters >= 2], raters[raters >= 2]


def percent_agreement(units: Iterable[Unit]) -> float | None:
    """Mean over units with at least two ratings of the share of rater pairs in the unit that agree."""
    return percent_agreement_from_counts(category_counts(units))


def percent_agreement_from_counts(counts: npt.ArrayLike) -> float | None:
    """Percent agreement of a units x categories count matrix: sum_j n_ij (n_ij - 1) / (n_i (n_i - 1)), averaged.

    The same as Fleiss' P_bar; rows with fewer than two ratings are left out.
    """
    matrix, raters = _pairable_rows(counts)
    if matrix.shape[0] == 0:
        return None
    return float(((matrix * (matrix - 1)).sum(axis=1) / (raters * (raters - 1))).mean())


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two raters over the same items (a[i] and b[i] rate item i).

    None when undefined: fewer than two shared items, or both raters use one and the same category throughout
    (chance agreement is then 1 and kappa is 0/0).
    """
    if len(a) != len(b):
        raise ValueError(f"The two rating lists differ in length ({len(a)} and {len(b)}).")
    # Integer codes: our categories need not be sortable (frozensets, mixed types).
    codes = {category: code for code, category in enumerate(dict.fromkeys([*a, *b]))}
    return cohen_kappa_codes(
        np.fromiter((codes[x] for x in a), dtype=np.int64, count=len(a)),
        np.fromiter((codes[y] for y in b), dtype=np.int64, count=len(b)),
    )


def cohen_kappa_codes(first: npt.NDArray[np.int64], second: npt.NDArray[np.int64]) -> float | None:
    """Cohen's kappa of two aligned arrays of category codes (0, 1, ...).

    kappa = (p_o - p_e) / (1 - p_e), with p_o the share of items they agree on and p_e the chance agreement
    from each rater's own category shares: the same figure as scikit-learn's cohen_kappa_score (the tests
    compare them), in a few numpy operations, because a project has pairs x labels of them to compute.
    """
    if len(first) < 2:
        return None
    width = int(max(first.max(), second.max())) + 1
    observed = float(np.mean(first == second))
    expected = float(
        (np.bincount(first, minlength=width) / len(first))
        @ (np.bincount(second, minlength=width) / len(second))
    )
    if expected >= 1.0:
        return None
    return _finite((observed - expected) / (1.0 - expected))


def fleiss_kappa(counts: npt.ArrayLike) -> float | None:
    """Fleiss' kappa of an items x categories matrix of rating counts; items may have different rater counts.

    P_i = (sum_j n_ij^2 - n_i) / (n_i (n_i - 1)), P_bar = mean P_i, p_j = sum_i n_ij / sum_i n_i,
    P_e = sum_j p_j^2, kappa = (P_bar - P_e) / (1 - P_e). Rows with fewer than two ratings have no P_i and are
    left out. None when no row is left or P_e is 1 (everyone used one category).
    """
    matrix, raters = _pairable_rows(counts)
    if matrix.shape[0] == 0:
        return None
    p_i = ((matrix**2).sum(axis=1) - raters) / (raters * (raters - 1))
    p_bar = float(p_i.mean())
    p_j = matrix.sum(axis=0) / raters.sum()
    p_e = float((p_j**2).sum())
    if p_e >= 1.0 - 1e-12:
        return None
    return _finite((p_bar - p_e) / (1.0 - p_e))


def category_counts(
    units: Iterable[Unit], categories: Sequence[Hashable] | None = None
) -> npt.NDArray[np.int64]:
    """The units x categories matrix of rating counts (Fleiss' layout, Krippendorff's value counts).

    Columns follow `categories`, then any category met in the units but not listed, in order of appearance.
    """
    index: dict[Hashable, int] = {category: i for i, category in enumerate(categories or ())}
    rows: list[int] = []
    columns: list[int] = []
    n_units = 0
    for n_units, unit in enumerate(units, start=1):
        for category in unit.values():
            rows.append(n_units - 1)
            columns.append(index.setdefault(category, len(index)))
    width = len(index)
    cells = np.asarray(rows, dtype=np.int64) * width + np.asarray(columns, dtype=np.int64)
    flat = np.bincount(cells, minlength=n_units * width)
    return flat.astype(np.int64).reshape(n_units, width)


def krippendorff_alpha(units: Iterable[Unit], categories: Sequence[Hashable] | None = None) -> float | None:
    """Krippendorff's alpha for nominal data, through the `krippendorff` package.

    None when undefined: no unit has two ratings (nothing pairable), or the pairable ratings use one category
    only.
    """
    return krippendorff_alpha_from_counts(category_counts(units, categories))


def krippendorff_alpha_from_counts(counts: npt.ArrayLike) -> float | None:
    """Krippendorff's nominal alpha of a units x categories count matrix (rows with one rating pair nothing).

    The package gets value counts rather than its annotators x units reliability data: the same numbers,
    without a dense matrix of every annotator against every item.
    """
    matrix, _ = _pairable_rows(counts)
    if matrix.shape[0] == 0 or np.count_nonzero(matrix.sum(axis=0)) < 2:
        return None
    alpha = krippendorff.alpha(value_counts=matrix.astype(np.int64), level_of_measurement="nominal")
    return _finite(float(alpha))
