"""Few-shot support sets: per label, the gold training items whose annotators agreed most, spread across
the data, picked the same way every time."""

from __future__ import annotations

import itertools
from array import array
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from datasets.choices import LabelSource
from datasets.selectors import RowChunk
from projects.choices import Split
from projects.models import Item

GOLD_SOURCES = frozenset({LabelSource.GOLD, LabelSource.ADJUDICATED})


@dataclass
class _Candidates:
    """One label's gold training items, column by column."""

    agreement: array[float] = field(default_factory=lambda: array("d"))
    annotators: array[int] = field(default_factory=lambda: array("q"))
    item_ids: array[int] = field(default_factory=lambda: array("q"))


class FewshotPool:
    """Gold training items per label, for the few-shot support sets, as compact arrays (agreement, number of
    annotators, item id): a million rows cost a few MB, and only the chosen items' texts are read back."""

    def __init__(self) -> None:
        self.by_label: dict[str, _Candidates] = {}

    def add(self, chunk: RowChunk) -> None:
        wanted = [
            index
            for index, (split, source) in enumerate(zip(chunk.split, chunk.label_source, strict=True))
            if split == Split.TRAIN and source in GOLD_SOURCES
        ]
        # Grouped by label list in C (a sort and groupby), then each group's columns taken at once.
        wanted.sort(key=chunk.label.__getitem__)
        for joined, group in itertools.groupby(wanted, key=chunk.label.__getitem__):
            rows = list(group)
            # A known answer nobody labeled (no agreement) is as sure as it gets.
            agreements = [1.0 if value is None else value for value in map(chunk.agreement.__getitem__, rows)]
            counts = list(map(chunk.n_annotators.__getitem__, rows))
            ids = list(map(chunk.item_id.__getitem__, rows))
            for label in joined.split("|") if joined else ():
                stored = self.by_label.setdefault(label, _Candidates())
                stored.agreement.extend(agreements)
                stored.annotators.extend(counts)
                stored.item_ids.extend(ids)

    def support_set(self, k: int) -> list[tuple[str, int, float, int]]:
        """Per label, k items: those whose annotators agreed most (then the most annotators), spread across
        the data (evenly spaced in item order among the equally good), the same every time.
        Returns (label, item id, agreement, annotators)."""
        chosen: list[tuple[str, int, float, int]] = []
        for label in sorted(self.by_label):
            candidates = self.by_label[label]
            agreement = np.asarray(candidates.agreement)
            annotators = np.asarray(candidates.annotators)
            ids = np.asarray(candidates.item_ids)
            order = np.lexsort((ids, -annotators, -agreement))  # best first; item order among equals
            if len(order) > k:
                least_agreement, least_annotators = agreement[order[k - 1]], annotators[order[k - 1]]
                better = (agreement > least_agreement) | (
                    (agreement == least_agreement) & (annotators > least_annotators)
                )
                tied = np.flatnonzero((agreement == least_agreement) & (annotators == least_annotators))
                tied = tied[np.argsort(ids[tied], kind="stable")]
                room = k - int(better.sum())  # at least 1: the k-th candidate itself is tied
                order = np.concatenate([order[better[order]], tied[(np.arange(room) * len(tied)) // room]])
            chosen += [(label, int(ids[i]), float(agreement[i]), int(annotators[i])) for i in order]
        return chosen


def fewshot_rows(chosen: list[tuple[str, int, float, int]]) -> list[dict[str, Any]]:
    """The support set's rows, with the texts read back for just the chosen items."""
    wanted = {item_id for _, item_id, _, _ in chosen}
    found = {
        item["pk"]: item for item in Item.objects.filter(pk__in=wanted).values("pk", "external_id", "text")
    }
    return [
        {"item_id": item_id, "external_id": found[item_id]["external_id"], "text": found[item_id]["text"],
         "support_label": label, "agreement": agreement, "n_annotators": annotators}
        for label, item_id, agreement, annotators in chosen
    ]  # fmt: skip
