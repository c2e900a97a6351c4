"""The LF analysis of a run's label matrix, counted chunk by chunk where the chunks are applied and merged
into Snorkel's LFAnalysis figures (coverage, overlaps, conflicts, polarity). Plain numpy, apart from the
label-model code (which imports Snorkel and torch), so that applying a chunk and the pages that start runs
load neither; and the split names a run reports."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

ABSTAIN = -1
NO_SPLIT = "all"


def chunk_analysis(matrix: npt.NDArray[np.int8]) -> dict[str, Any]:
    """Snorkel's LFAnalysis of one chunk of the label matrix, as row counts per LF and polarities. Coverage,
    overlaps and conflicts each count rows (a row's figure depends on that row alone), so the sums over a
    run's chunks, divided by its rows, are exactly what LFAnalysis gives on the whole matrix (tested against
    it). Counted here with LFAnalysis's definitions on the dense chunk: a row overlaps where two or more LFs
    vote, conflicts where they vote for two or more labels; a fifth of the time of building its sparse form."""
    rows, m = matrix.shape
    covered = matrix != ABSTAIN
    voted = covered.sum(axis=1)
    highest = matrix.max(axis=1, initial=ABSTAIN)
    lowest = np.where(covered, matrix, np.iinfo(np.int8).max).min(axis=1, initial=np.iinfo(np.int8).max)
    overlapped = voted > 1
    conflicted = overlapped & (lowest < highest)
    labels = int(highest.max(initial=ABSTAIN)) + 2
    polarity = [
        np.flatnonzero(np.bincount(matrix[:, column].astype(np.int64) + 1, minlength=labels)[1:]).tolist()
        for column in range(m)
    ]
    return {
        "rows": rows,
        "covered": covered.sum(axis=0).astype(np.int64).tolist(),
        "overlaps": (covered & overlapped[:, None]).sum(axis=0).astype(np.int64).tolist(),
        "conflicts": (covered & conflicted[:, None]).sum(axis=0).astype(np.int64).tolist(),
        "polarity": polarity,
    }


def analysis_merge(parts: list[dict[str, Any]], m: int) -> dict[str, list[Any]]:
    """The whole matrix's LFAnalysis figures from its chunks' counts."""
    rows = sum(part["rows"] for part in parts) or 1
    merged: dict[str, list[Any]] = {}
    for name, key in (("Coverage", "covered"), ("Overlaps", "overlaps"), ("Conflicts", "conflicts")):
        merged[name] = [sum(part[key][column] for part in parts) / rows for column in range(m)]
    merged["Polarity"] = [
        sorted({p for part in parts for p in part["polarity"][column]}) for column in range(m)
    ]
    return merged


def split_labels_reported(names: list[str]) -> list[str]:
    """Split names as reported, for the names split codes point into: "all" when the project has none, else
    "none" for items without one."""
    if any(names):
        return [name or "none" for name in names]
    return [NO_SPLIT for _ in names]
