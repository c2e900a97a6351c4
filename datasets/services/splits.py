"""Train, validation and test splits that never change once given.

An item imported with a split keeps it. An item without one gets one the first time a snapshot holds it, and
that split is stored on the item: later versions read it back, so no item of one version's test split can
ever appear in a later version's train split. New items are assigned stratified by their label: within each
label, in the order of a hash of the project and the item's external id (so the same items get the same
splits on every machine), each goes to the split furthest below its target share for that label.
"""

from __future__ import annotations

import hashlib
from array import array
from collections import Counter, defaultdict

from django.db import connection, transaction

from datasets.selectors import RowChunk
from projects.choices import Split
from projects.models import Item, Project

SPLIT_RATIOS: dict[str, float] = {Split.TRAIN: 0.8, Split.VALID: 0.1, Split.TEST: 0.1}
# Item ids per UPDATE: one statement per split per batch (on PostgreSQL, as one array parameter).
UPDATE_BATCH = 20_000
SQLITE_BATCH = 900  # SQLite's limit on parameters per statement (999 in older builds)


def split_hash(*, project_id: int, external_id: str) -> str:
    return hashlib.sha256(f"{project_id}\x1f{external_id}".encode()).hexdigest()


class SplitAssigner:
    """Assigns splits to a stream of row chunks, stratified by label, and remembers what it assigned."""

    def __init__(self, *, project: Project, ratios: dict[str, float] | None = None) -> None:
        self.project_id = project.pk
        self.ratios = ratios or SPLIT_RATIOS
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        # Compact: a first export of a million unsplit items assigns a million ids.
        self.assigned: dict[str, array[int]] = defaultdict(lambda: array("q"))

    def _pick(self, label: str) -> str:
        seen = self.counts[label]
        total = sum(seen.values()) + 1
        # The split furthest below its share; ties go to the first in train, valid, test order.
        return max(self.ratios, key=lambda split: self.ratios[split] * total - seen[split])

    def assign(self, chunk: RowChunk) -> None:
        """Fills in the blank splits of a chunk (in place)."""
        waiting: dict[str, list[tuple[str, int]]] = defaultdict(list)
        # Rows that have their split are counted per distinct (label, split): few, however many rows.
        for (label, split), count in Counter(zip(chunk.label, chunk.split, strict=True)).items():
            if split:
                self.counts[label][split] += count
        if "" not in chunk.split:
            return
        for index, split in enumerate(chunk.split):
            if not split:
                key = split_hash(project_id=self.project_id, external_id=chunk.external_id[index])
                waiting[chunk.label[index]].append((key, index))
        for label, rows in waiting.items():
            for _, index in sorted(rows):
                split = self._pick(label)
                self.counts[label][split] += 1
                chunk.split[index] = split
                self.assigned[split].append(chunk.item_id[index])

    def persist(self) -> int:
        """Stores the splits it assigned on the items; returns how many."""
        stored = 0
        with transaction.atomic():
            for split, item_ids in self.assigned.items():
                for start in range(0, len(item_ids), UPDATE_BATCH):
                    stored += self._store(split, item_ids[start : start + UPDATE_BATCH].tolist())
        return stored

    def _store(self, split: str, item_ids: list[int]) -> int:
        # Only items still without a split: a concurrent snapshot that got there first wins.
        if connection.vendor == "postgresql":
            # One array parameter instead of 20,000: the statement is built and sent in microseconds.
            table = connection.ops.quote_name(Item._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET split = %s WHERE project_id = %s AND split = '' AND id = ANY(%s)",
                    [split, self.project_id, item_ids],
                )
                return int(cursor.rowcount)
        updated = 0
        for start in range(0, len(item_ids), SQLITE_BATCH):
            batch = item_ids[start : start + SQLITE_BATCH]
            updated += Item.objects.filter(project_id=self.project_id, pk__in=batch, split="").update(
                split=split
            )
        return updated
