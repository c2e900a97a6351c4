"""The project's feature cache: blocks of item features in files, built once per item, incrementally.

Items are covered by blocks of consecutive ids. A refresh builds blocks only for items no block covers
(new items, or items whose text an import changed: their block is dropped and rebuilt). Any worker can
build any block; a block is written whole before it is recorded, so a retried build simply writes it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from scipy import sparse

from core.storage import storage_write
from features.choices import STORED_KINDS, BlockKind, FeatureKind
from features.classifiers import stack
from features.models import FeatureBlock
from features.services.invalidation import features_invalidate as features_invalidate  # its home before
from features.vectors import (
    Matrix,
    block_bytes,
    block_compute,
    block_parse,
    block_text,
    idf_weights,
    weigh,
)
from projects.models import Item, Project

# Items per block: hashing 50,000 texts takes about half a second, and a block's file (about 15 MB for short
# texts) is what one scoring chunk holds in memory.
BLOCK_SIZE = 50_000


@dataclass(frozen=True)
class BlockPlan:
    first_id: int
    last_id: int
    rows: int
    kind: str = FeatureKind.HASHED_TFIDF  # the stored kind to build (a hybrid kind plans each of its parts)


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


def stored_kinds(kind: str) -> tuple[str, ...]:
    """The block kinds a feature kind reads (a hybrid kind reads two, side by side)."""
    return STORED_KINDS.get(kind, (kind,))


def features_plan(*, project: Project, kind: str, block_size: int = BLOCK_SIZE) -> list[BlockPlan]:
    """The blocks to build, for each stored kind the feature kind reads: the items no block of that kind
    covers, cut into runs of consecutive ids that never span an existing block."""
    return [
        plan
        for stored in stored_kinds(kind)
        for plan in _stored_plan(project=project, kind=stored, block_size=block_size)
    ]


def _stored_plan(*, project: Project, kind: str, block_size: int) -> list[BlockPlan]:
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
            plans.append(BlockPlan(first_id=int(part[0]), last_id=int(part[-1]), rows=len(part), kind=kind))
    return plans


def block_path(project: Project, kind: str, first_id: int, last_id: int) -> str:
    return f"active_learning/features/{project.pk}/{kind}/{first_id}-{last_id}.npz"


def feature_block_build(*, project: Project, kind: str, first_id: int, last_id: int) -> FeatureBlock | None:
    """Computes and stores the features of one planned range (of a stored kind). Idempotent: a range already
    built is kept."""
    if len(stored_kinds(kind)) != 1 or stored_kinds(kind)[0] != kind:
        raise ValueError(f"'{kind}' is read from several stored kinds; build each of its plans.")
    done = FeatureBlock.objects.filter(project=project, kind=kind, first_id=first_id).first()
    if done is not None:
        return done
    rows = list(
        Item.objects.filter(project=project, pk__gte=first_id, pk__lte=last_id)
        .order_by("pk")
        .values("pk", *BLOCK_COLUMNS.get(kind, ("text",)))
    )
    if not rows:
        return None
    ids = np.asarray([row["pk"] for row in rows], dtype=np.int64)
    texts = [block_text(kind, row.get("text", ""), row.get("metadata")) for row in rows]
    path = block_path(project, kind, first_id, last_id)
    storage_write(path, block_bytes(ids, block_compute(kind, texts)))
    try:
        with transaction.atomic():
            return FeatureBlock.objects.create(
                project=project, kind=kind, first_id=first_id, last_id=last_id, rows=len(ids), path=path
            )
    except IntegrityError:  # a retried build raced its first attempt: the block is the same, keep the first
        return FeatureBlock.objects.filter(project=project, kind=kind, first_id=first_id).first()


# The item columns a block kind reads (the others read the text).
BLOCK_COLUMNS: dict[str, tuple[str, ...]] = {
    BlockKind.FIELDS: ("metadata",),
    BlockKind.CONTEXT: ("text", "metadata"),
}


def features_refresh(*, project: Project, kind: str) -> int:
    """Builds every missing block here, in this process; returns how many."""
    plans = features_plan(project=project, kind=kind)
    for plan in plans:
        feature_block_build(project=project, kind=plan.kind, first_id=plan.first_id, last_id=plan.last_id)
    return len(plans)


# --- reads (used by training and scoring, which run where the blocks are) ----------------------------------
def block_load(block: FeatureBlock) -> tuple[npt.NDArray[np.int64], Matrix, npt.NDArray[np.int64] | None]:
    with default_storage.open(block.path, "rb") as handle:
        return block_parse(handle.read())


def idf_compute(*, project: Project, kind: str) -> npt.NDArray[np.float32] | None:
    """Inverse document frequencies over every cached item (None for embeddings, which are used as they are;
    a hybrid kind's are those of its TF-IDF part)."""
    if kind not in (FeatureKind.HASHED_TFIDF, FeatureKind.EMBEDDINGS, FeatureKind.STATIC, BlockKind.FIELDS):
        if FeatureKind.HASHED_TFIDF not in stored_kinds(kind):
            return None
        kind = FeatureKind.HASHED_TFIDF
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
    """The weighted features of the given items (those the cache holds), with their ids in the same order
    (sorted). A hybrid kind's parts are put side by side, for the items every part holds."""
    parts = stored_kinds(kind)
    if len(parts) == 1:
        return _stored_get(project=project, kind=parts[0], item_ids=item_ids, idf=idf)
    wanted = np.unique(np.fromiter(item_ids, dtype=np.int64))
    got: list[tuple[npt.NDArray[np.int64], Matrix]] = []
    for part in parts:
        part_ids, x = _stored_get(
            project=project, kind=part, item_ids=wanted, idf=idf if part == FeatureKind.HASHED_TFIDF else None
        )
        if x is None:
            return np.zeros(0, dtype=np.int64), None
        got.append((part_ids, x))
    found_ids = got[0][0]
    for part_ids, _ in got[1:]:
        found_ids = np.intersect1d(found_ids, part_ids, assume_unique=True)
    matrices = [x[np.searchsorted(part_ids, found_ids)] for part_ids, x in got]
    return found_ids, hstack_features(matrices)


def hstack_features(parts: list[Matrix]) -> Matrix:
    """Feature blocks side by side: sparse when any part is (TF-IDF), dense otherwise."""
    if len(parts) == 1:
        return parts[0]
    if all(isinstance(part, np.ndarray) for part in parts):
        return np.hstack(parts)
    return sparse.hstack([sparse.csr_matrix(part) for part in parts], format="csr", dtype=np.float32)


def block_features(
    *, project: Project, kind: str, block: FeatureBlock, idf: npt.NDArray[np.float32] | None
) -> tuple[npt.NDArray[np.int64], Matrix]:
    """One block's items and their weighted features of `kind` (for a hybrid kind: the block is of its first
    part, and the other parts are read for the same items)."""
    ids, features, _ = block_load(block)
    x = weigh(features, idf if block.kind == FeatureKind.HASHED_TFIDF else None)
    parts = stored_kinds(kind)
    if len(parts) == 1:
        return ids, x
    found, full = features_get(project=project, kind=kind, item_ids=ids, idf=idf)
    if full is None:
        return np.zeros(0, dtype=np.int64), x[:0]
    return found, full


def primary_blocks(*, project: Project, kind: str) -> list[FeatureBlock]:
    """The blocks a walk over every item reads, in id order: those of the kind's first stored part."""
    return list(FeatureBlock.objects.filter(project=project, kind=stored_kinds(kind)[0]).order_by("first_id"))


def _stored_get(
    *, project: Project, kind: str, item_ids: Iterable[int], idf: npt.NDArray[np.float32] | None
) -> tuple[npt.NDArray[np.int64], Matrix | None]:
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
