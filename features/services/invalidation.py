"""Dropping the cached feature blocks whose items changed. Apart from features.services.cache, which reads and
builds blocks with scikit-learn: an import calls only this, and a process that imports need not load
scikit-learn and pandas for it (about 180 MB; tests/core/test_startup.py)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

import numpy as np
from django.core.files.storage import default_storage
from django.db import transaction

from features.models import FeatureBlock
from projects.models import Project


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
