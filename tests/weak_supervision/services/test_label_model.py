"""The label model's shortcuts give Snorkel's own figures: the fit on distinct vote patterns, and the LF
analysis summed from chunks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from snorkel.labeling import LFAnalysis
from snorkel.labeling.model import LabelModel

from weak_supervision.services.label_model import (
    DistinctRowsLabelModel,
    analysis_merge,
    chunk_analysis,
    distinct_rows,
)


def _matrix(rows: int, lfs: int, k: int, seed: int = 7) -> np.ndarray:  # type: ignore[type-arg]
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, rows)
    matrix = np.full((rows, lfs), -1, dtype=np.int8)
    for column in range(lfs):
        fires = rng.random(rows) < 0.3
        right = rng.random(rows) < 0.75
        matrix[fires, column] = np.where(right[fires], truth[fires], rng.integers(0, k, fires.sum()))
    return matrix


@pytest.mark.parametrize("lfs", [5, 40])  # 40 LFs: too wide for one integer per row, compared column-wise
def test_distinct_rows_rebuild_the_matrix(lfs: int) -> None:
    # given
    matrix = _matrix(3000, lfs, 3)

    # when
    rows, counts, inverse = distinct_rows(matrix)

    # then
    assert np.array_equal(rows[inverse], matrix)
    assert counts.sum() == len(matrix)
    assert len(np.unique(rows, axis=0)) == len(rows)


def test_the_fit_on_distinct_patterns_gives_snorkels_model() -> None:
    # given a label matrix of 5,000 items, 6 LFs and 3 classes
    matrix = _matrix(5000, 6, 3)
    options = {"n_epochs": 200, "lr": 0.01, "seed": 123, "progress_bar": False}

    # when
    whole = LabelModel(cardinality=3, verbose=False)
    whole.fit(matrix, **options)
    patterns, counts, inverse = distinct_rows(matrix)
    distinct = DistinctRowsLabelModel(cardinality=3, verbose=False)
    distinct.row_counts = counts
    distinct.fit(patterns, **options)

    # then
    assert len(patterns) < len(matrix) / 5
    assert np.allclose(distinct.predict_proba(patterns)[inverse], whole.predict_proba(matrix), atol=1e-5)


def test_the_analysis_summed_from_chunks_is_lf_analysis_of_the_whole_matrix() -> None:
    # given a matrix cut into uneven chunks, one of them empty
    matrix = _matrix(2500, 7, 4)
    bounds = [0, 1, 700, 700, 1999, 2500]

    # when
    parts = [chunk_analysis(matrix[start:end]) for start, end in itertools.pairwise(bounds)]
    merged = analysis_merge(parts, 7)

    # then
    summary = LFAnalysis(matrix).lf_summary()
    for name in ("Coverage", "Overlaps", "Conflicts"):
        assert np.allclose(merged[name], summary[name].to_numpy())
    assert merged["Polarity"] == [list(polarity) for polarity in summary["Polarity"]]
