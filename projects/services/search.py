"""The item browser's text search on PostgreSQL: each item's text in `ItemSearchText`, under a trigram index,
written after imports commit so that they never pay for the index (bench/import.py measured a trigram index on
the items themselves tripling the server's CPU per imported item).

The project's `search_indexed_through` is the largest item id up to which every item has its row: the search
reads the index for those and scans the texts of any newer item (projects.selectors.items_text_contain), so
it never misses an item, whether or not the refresh has run. The refresh moves the mark only past items whose
writers have committed: it takes the project's row FOR UPDATE, which an import's transaction blocks (it holds
FOR KEY SHARE on the row while it writes), reads the project's largest item id there, and lets go; any item
written later gets a larger id from the sequence. The rows are then written in chunks of consecutive ids, the
mark moving after each (a crashed refresh resumes; two at once write each row once). A periodic sweep
(`item_search_behind`, CELERY_BEAT_SCHEDULE) refreshes any project left behind: projects from before the
search rows existed, a refresh whose message was lost.
"""

from __future__ import annotations

from django.db import OperationalError, connection, transaction
from django.db.models import Exists, Max, OuterRef

from projects.models import Item, Project

SEARCH_CHUNK = 50_000

_CHUNK = """
WITH chunk AS (
    SELECT id, project_id, text FROM labeling_item
    WHERE project_id = %(project)s AND id > %(low)s AND id <= %(high)s
    ORDER BY id LIMIT %(limit)s
), written AS (
    INSERT INTO projects_itemsearchtext (item_id, project_id, text)
    SELECT id, project_id, text FROM chunk
    ON CONFLICT (item_id) DO NOTHING
    RETURNING 1
)
SELECT (SELECT max(id) FROM chunk), (SELECT count(*) FROM written)
"""


def item_search_refresh(*, project_id: int, chunk: int = SEARCH_CHUNK) -> int | None:
    """Writes the search rows of the project's items above its mark and moves the mark; the rows written.
    None where a writer of the project's items holds its row now (its own refresh follows its commit; the
    task tries again later); 0 on SQLite, which searches by scanning."""
    if connection.vendor != "postgresql":
        return 0
    try:
        with transaction.atomic():
            project = Project.objects.select_for_update(nowait=True).filter(pk=project_id).first()
            if project is None:
                return 0
            low = project.search_indexed_through
            high = Item.objects.filter(project_id=project_id).aggregate(top=Max("id"))["top"] or 0
    except OperationalError:
        return None
    written = 0
    while low < high:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_CHUNK, {"project": project_id, "low": low, "high": high, "limit": chunk})
            top, count = cursor.fetchone()
            # No item left in the range (deleted meanwhile): the mark goes to its end.
            low = high if top is None else int(top)
            written += int(count)
            Project.objects.filter(pk=project_id, search_indexed_through__lt=low).update(
                search_indexed_through=low
            )
    return written


def item_search_behind() -> list[int]:
    """The projects (ids) with items above their search mark: the periodic sweep refreshes them, which catches
    projects from before the search rows existed and any refresh that was lost. Empty on SQLite."""
    if connection.vendor != "postgresql":
        return []
    newer = Item.objects.filter(project_id=OuterRef("pk"), pk__gt=OuterRef("search_indexed_through"))
    return list(Project.objects.filter(Exists(newer)).order_by("pk").values_list("pk", flat=True))
