"""A paginator for lists too big to count exactly on every request: it counts up to a cap.

Counting a million filtered rows costs PostgreSQL a pass over every one of them (hundreds of milliseconds to
seconds for a join), where the first page of them costs a few milliseconds. Past the cap, a list says "more
than N" and the reader narrows the filter; below it the count is exact. bench/item_filters.py measures it.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.utils.functional import cached_property

COUNT_CAP = 10_000


class CappedPaginator(Paginator):  # type: ignore[type-arg]  # Django's Paginator is generic in the stubs only
    """Counts at most `cap` + 1 rows (`capped` tells whether there are more than `cap`)."""

    cap = COUNT_CAP

    @cached_property
    def count(self) -> int:
        rows: Any = self.object_list
        if not hasattr(rows, "count") or isinstance(rows, list):
            return len(rows)
        return int(rows[: self.cap + 1].count())

    @property
    def capped(self) -> bool:
        return self.count > self.cap
