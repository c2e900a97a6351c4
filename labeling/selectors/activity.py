"""Reads about labeling activity: progress, interaction events and per-analyst summaries.

Analysts see only their own events and figures; owners, reviewers and data scientists see everyone's.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import QuerySet

from core.csv_safety import csv_row_safe
from labeling.choices import AnnotationSource, EventType
from labeling.models import Annotation, Assignment, InteractionEvent
from projects.access import ProjectAccess
from projects.models import Item, Project
from projects.permissions import Action
from projects.selectors import AnyUser

# A pause longer than this between two of an analyst's events is a break, not labeling time.
ACTIVE_GAP_CAP = timedelta(minutes=5)
PROGRESS_CACHE_SECONDS = 5
# Events carrying how the analyst acted (hotkey, click or api).
ACTION_EVENTS = (EventType.SUBMIT, EventType.CHANGE, EventType.SKIP, EventType.UNDO, EventType.FLAG)


def sees_everyone(viewer: ProjectAccess | None) -> bool:
    """Whether the viewer sees everyone's events, figures and names (Action.SEE_OTHERS_ANSWERS); a read
    without a member (commands, the owners' alerts: viewer None) sees everything."""
    return viewer is None or viewer.allows(Action.SEE_OTHERS_ANSWERS)


def interaction_event_list_for_user(
    *, project: Project, viewer: ProjectAccess | None
) -> QuerySet[InteractionEvent]:
    events = InteractionEvent.objects.filter(project=project).select_related("user")
    if viewer is not None and not sees_everyone(viewer):
        events = events.filter(user_id=viewer.user.pk)
    return events.order_by("server_ts", "id")


@dataclass(frozen=True)
class AnalystSummary:
    user_id: int
    username: str
    submitted: int
    changed: int
    skipped: int
    undone: int
    flagged: int
    active_minutes: float
    items_per_hour: float | None
    median_seconds: float | None
    skip_rate: float | None
    hotkey_share: float | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _active_seconds(stamps: Iterable[datetime]) -> float:
    total, previous = 0.0, None
    for stamp in stamps:
        if previous is not None:
            total += min(stamp - previous, ACTIVE_GAP_CAP).total_seconds()
        previous = stamp
    return total


def _summary(
    user_id: int, username: str, rows: list[tuple[str, datetime, Any]], lead_times: list[int]
) -> AnalystSummary:
    counts: dict[str, int] = defaultdict(int)
    methods = [method for kind, _, method in rows if kind in ACTION_EVENTS and method]
    for kind, _, _ in rows:
        counts[kind] += 1
    submitted, skipped = counts[EventType.SUBMIT], counts[EventType.SKIP]
    # The last event's own time counts too: a lone submit is not zero seconds of work.
    active = _active_seconds(stamp for _, stamp, _ in rows)
    hours = active / 3600
    return AnalystSummary(
        user_id=user_id, username=username, submitted=submitted, changed=counts[EventType.CHANGE],
        skipped=skipped, undone=counts[EventType.UNDO], flagged=counts[EventType.FLAG],
        active_minutes=round(active / 60, 2),
        items_per_hour=round(submitted / hours, 1) if hours > 0 else None,
        median_seconds=round(statistics.median(lead_times) / 1000, 2) if lead_times else None,
        skip_rate=round(skipped / (submitted + skipped), 4) if submitted + skipped else None,
        hotkey_share=round(methods.count("hotkey") / len(methods), 4) if methods else None,
    )  # fmt: skip


def analyst_summary_list(*, project: Project, viewer: ProjectAccess | None) -> list[AnalystSummary]:
    """Per analyst: items per active hour, median seconds per item, skip rate and share of hotkey use.

    Active time is the sum of the gaps between an analyst's consecutive events, each capped at five minutes.
    The median comes from the lead times of their current annotations, measured in the browser.
    """
    events = InteractionEvent.objects.filter(project=project, user__isnull=False)
    annotations = Annotation.objects.filter(
        project=project, source=AnnotationSource.HUMAN, annotator__isnull=False, lead_time_ms__isnull=False
    )
    if viewer is not None and not sees_everyone(viewer):
        events = events.filter(user_id=viewer.user.pk)
        annotations = annotations.filter(annotator_id=viewer.user.pk)
    rows: dict[int, list[tuple[str, datetime, Any]]] = defaultdict(list)
    for user_id, kind, stamp, method in events.order_by("user_id", "server_ts", "id").values_list(
        "user_id", "type", "server_ts", "payload__input_method"
    ):
        rows[user_id].append((kind, stamp, method))
    lead_times: dict[int, list[int]] = defaultdict(list)
    for annotator_id, lead_time in annotations.values_list("annotator_id", "lead_time_ms"):
        if annotator_id is not None and lead_time is not None:
            lead_times[annotator_id].append(lead_time)
    users = dict(
        get_user_model().objects.filter(pk__in=rows.keys() | lead_times.keys()).values_list("pk", "username")
    )
    return [
        _summary(user_id, users[user_id], rows.get(user_id, []), lead_times.get(user_id, []))
        for user_id in sorted(users, key=lambda pk: users[pk])
    ]


def _project_counts(project_id: int) -> tuple[int, int]:
    items = Item.objects.filter(project_id=project_id)
    return items.count(), items.filter(remaining__lte=0).count()


def project_progress(*, project: Project, user: AnyUser) -> dict[str, Any]:
    """Items, done and remaining for the project home and the labeling panel, with this user's own count.

    The project-wide counts scan every item, so they are cached for a few seconds: the labeling panel asks
    after every answer, and on a project of a million items that scan would dominate the hot path.
    """
    counts: tuple[int, int] | None = cache.get_or_set(
        f"labeling:progress:{project.pk}", lambda: _project_counts(project.pk), PROGRESS_CACHE_SECONDS
    )
    total, done = counts or _project_counts(project.pk)
    mine = Annotation.objects.filter(project=project, annotator_id=user.pk).count()
    return {
        "items": total,
        "done": done,
        "remaining": total - done,
        "percent": round(100 * done / total) if total else 0,
        "mine": mine,
    }


EXPORT_FORMATS = {"csv": "text/csv", "jsonl": "application/x-ndjson"}
EXPORT_COLUMNS = ["id", "type", "item_id", "user_id", "username", "payload", "client_ts", "server_ts"]


def _export_rows(events: QuerySet[InteractionEvent]) -> Iterator[dict[str, Any]]:
    for event in events.iterator(chunk_size=2000):
        yield {
            "id": event.pk, "type": event.type, "item_id": event.item_id, "user_id": event.user_id,
            "username": event.user.username if event.user else None, "payload": event.payload,
            "client_ts": event.client_ts.isoformat() if event.client_ts else None,
            "server_ts": event.server_ts.isoformat(),
        }  # fmt: skip


def _csv_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow(csv_row_safe({**row, "payload": json.dumps(row["payload"], ensure_ascii=False)}))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def interaction_events_export_lines(*, events: QuerySet[InteractionEvent], fmt: str) -> Iterator[str]:
    """The events as CSV (payload as a JSON column) or JSON Lines, streamed a line at a time."""
    rows = _export_rows(events.select_related("user"))
    if fmt == "csv":
        return _csv_lines(rows)
    return (json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def queue_skipped_count(*, project: Project, user: AnyUser) -> int:
    """How many items this analyst skipped (they can bring them back when their queue runs dry)."""
    return Assignment.objects.filter(
        project=project, user_id=int(user.pk or 0), status=Assignment.Status.SKIPPED
    ).count()
