"""The project's feature cache: blocks of item features in files, built once per item, incrementally.

Items are covered by blocks of consecutive ids. A refresh builds blocks only for items no block covers
(new items, or items whose text an import changed: their block is dropped and rebuilt). Any worker can
build any block; a block is written whole before it is recorded, so a retried build simply writes it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

import numpy as np
import numpy.typing as npt
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q

from core.storage import storage_write
from features.classifiers import stack
from features.models import FeatureBlock
from features.vectors import Matrix, block_bytes, block_compute, block_parse, idf_weights, weigh
from projects.models import Item, Project

# Items per block: hashing 50,000 texts takes about half a second, and a block's file (about 15 MB for short
# texts) is what one scoring chunk holds in memory.
BLOCK_SIZE = 50_000


@dataclass(frozen=True)
class BlockPlan:
    first_id: int
    last_id: int
    rows: int


def _covered(blocks: Iterable[FeatureBlock]) -> Q:
    covered = Q(pk__in=[])
    for block in blocks:
        covered |= Q(pk__gte=block.first_id, pk__lte=block.last_id)
    return covered


def _all_covered(project: Project, blocks: list[FeatureBlock]) -> bool:
    """Whether the blocks hold every item, from two aggregates (items are never deleted one by one, and an
    item whose text changed has its block dropped): as many items as block rows, none above the last block."""
    found = Item.objects.filter(project=project).aggregate(count=Count("pk"), top=Max("pk"))
    return found["count"] == sum(block.rows for block in blocks) and (found["top"] or 0) <= blocks[-1].last_id


def features_plan(*, project: Project, kind: str, block_size: int = BLOCK_SIZE) -> list[BlockPlan]:
    """The blocks to build: the items no block covers, cut into runs of consecutive ids that never span an
    existing block."""
    blocks = list(FeatureBlock.objects.filter(project=project, kind=kind).order_by("first_id"))
    if blocks and _all_covered(project, blocks):
        return []
    ids = np.fromiter(
        Item.objects.filter(project=project)
        .exclude(_covered(blocks))
        .order_by("pk")
        .values_list("pk", flat=True),
        dtype=np.int64,
    )
    if not len(ids):
        return []
    starts = np.asarray([block.first_id for block in blocks], dtype=np.int64)
    gap = np.searchsorted(starts, ids)  # items between the same two blocks share a gap
    plans = []
    for number in np.unique(gap):
        run = ids[gap == number]
        for offset in range(0, len(run), block_size):
            part = run[offset : offset + block_size]
            plans.append(BlockPlan(first_id=int(part[0]), last_id=int(part[-1]), rows=len(part)))
    return plans


def block_path(project: Project, kind: str, first_id: int, last_id: int) -> str:
    return f"active_learning/features/{project.pk}/{kind}/{first_id}-{last_id}.npz"


def feature_block_build(*, project: Project, kind: str, first_id: int, last_id: int) -> FeatureBlock | None:
    """Computes and stores the features of one planned range. Idempotent: a range already built is kept."""
    done = FeatureBlock.objects.filter(project=project, kind=kind, first_id=first_id).first()
    if done is not None:
        return done
    rows = list(
        Item.objects.filter(project=project, pk__gte=first_id, pk__lte=last_id)
        .order_by("pk")
        .values_list("pk", "text")
    )
    if not rows:
        return None
    ids = np.asarray([pk for pk, _ in rows], dtype=np.int64)
    path = block_path(project, kind, first_id, last_id)
    storage_write(path, block_bytes(ids, block_compute(kind, [text for _, text in rows])))
    try:
        with transaction.atomic():
            return FeatureBlock.objects.create(
                project=project, kind=kind, first_id=first_id, last_id=last_id, rows=len(ids), path=path
            )
    except IntegrityError:  # a retried build raced its first attempt: the block is the same, keep the first
        return FeatureBlock.objects.filter(project=project, kind=kind, first_id=first_id).first()


def features_refresh(*, project: Project, kind: str) -> int:
    """Builds every missing block here, in this process; returns how many."""
    plans = features_plan(project=project, kind=kind)
    for plan in plans:
        feature_block_build(project=project, kind=kind, first_id=plan.first_id, last_id=plan.last_id)
    return len(plans)


def features_invalidate(*, project: Project, item_ids: Iterable[int]) -> int:
    """Drops the blocks that hold any of these items (their text changed): the next refresh rebuilds them."""
    wanted = sorted(set(item_ids))
    if not wanted:
        return 0
    stale = []
    for block in FeatureBlock.objects.filter(project=project):
        position = np.searchsorted(wanted, block.first_id)
        if position < len(wanted) and wanted[position] <= block.last_id:
            stale.append(block)
    for block in stale:
        block.delete()
        transaction.on_commit(partial(default_storage.delete, block.path))
    return len(stale)


# --- reads (used by training and scoring, which run where the blocks are) ----------------------------------
def block_load(block: FeatureBlock) -> tuple[npt.NDArray[np.int64], Matrix, npt.NDArray[np.int64] | None]:
    with default_storage.open(block.path, "rb") as handle:
        return block_parse(handle.read())


def idf_compute(*, project: Project, kind: str) -> npt.NDArray[np.float32] | None:
    """Inverse document frequencies over every cached item (None for embeddings, which are used as they are)."""
    total: npt.NDArray[np.int64] | None = None
    rows = 0
    for block in FeatureBlock.objects.filter(project=project, kind=kind):
        # Only the df member of the block's archive is read, not its matrix.
        with default_storage.open(block.path, "rb") as handle, np.load(handle) as stored:
            if "df" not in stored:
                return None
            df = stored["df"]
        total = df if total is None else total + df
        rows += block.rows
    return idf_weights(total, rows) if total is not None else None


def features_get(
    *, project: Project, kind: str, item_ids: Iterable[int], idf: npt.NDArray[np.float32] | None
) -> tuple[npt.NDArray[np.int64], Matrix | None]:
    """The weighted features of the given items (those the cache holds), with their ids in the same order."""
    wanted = np.unique(np.fromiter(item_ids, dtype=np.int64))
    found_ids: list[npt.NDArray[np.int64]] = []
    parts: list[Matrix] = []
    for block in FeatureBlock.objects.filter(project=project, kind=kind).order_by("first_id"):
        low, high = np.searchsorted(wanted, [block.first_id, block.last_id + 1])
        if low == high:
            continue
        ids, features, _ = block_load(block)
        rows = np.flatnonzero(np.isin(ids, wanted[low:high]))
        found_ids.append(ids[rows])
        parts.append(weigh(features[rows], idf))
    if not parts:
        return np.zeros(0, dtype=np.int64), None
    return np.concatenate(found_ids), stack(parts)
