"""The labeling queue: which item an analyst sees next, leases that reserve it, and skips.

An item is open while `remaining > 0` (the project's overlap minus its annotations). The queue hands an
analyst the open item of highest priority (then import order) that they have neither answered nor skipped
and whose open slots are not all held by other analysts' live leases. The hand-out locks the item's row
(`SELECT ... FOR NO KEY UPDATE SKIP LOCKED` on PostgreSQL) and counts the live leases again once it holds
the lock: two analysts can never both take the last slot of an item.

The hot path locks items FOR NO KEY UPDATE, never FOR UPDATE: it changes no key, and FOR UPDATE would also
conflict with the FOR KEY SHARE locks that PostgreSQL's foreign-key checks take on the items a background
job's rows point at (a truth-inference run writes a row per item and checks them all at its commit: with
FOR UPDATE every hand-out and submit of the project waited the seconds that commit takes, or skipped items).
On SQLite, transactions start with `BEGIN IMMEDIATE` (settings), which serialises hand-outs: correct, if
slower.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.exceptions import NotFoundError
from core.queries import datetime_from_db, models_from_sql, statement_cursor
from labeling.choices import EventType
from labeling.models import Annotation, Assignment, InteractionEvent
from projects.models import Item, Project

# When every open item was locked at the moment of a hand-out: how often, and after how long, to look again.
LOCKED_RETRIES = 5
LOCKED_RETRY_SECONDS = 0.05
INPUT_METHODS = frozenset({"hotkey", "click", "api", ""})
ERROR_INPUT_METHOD = "input_method must be one of hotkey, click, api."
ERROR_ITEM = "Item not found in this project."


@dataclass(frozen=True)
class QueueItem:
    """An item handed to an analyst, with the lease that reserves it."""

    item: Item
    assignment: Assignment
    previous_labels: list[str] = field(default_factory=list)
    previous_spans: list[Any] = field(default_factory=list)  # span projects: the undone answer's spans


def input_method_validate(value: str) -> str:
    if value not in INPUT_METHODS:
        raise ValidationError(ERROR_INPUT_METHOD, code="input_method")
    return value


def project_item_get(*, project: Project, item_id: int, lock: bool = False) -> Item:
    items = Item.objects.select_for_update(no_key=True) if lock else Item.objects.all()
    item = items.filter(project=project, pk=item_id).first()
    if item is None:
        raise NotFoundError(ERROR_ITEM)
    return item


def _live_leases_by_others(
    *, item_ref: OuterRef | int, user: AbstractBaseUser, now: datetime
) -> QuerySet[Assignment]:
    return Assignment.objects.filter(
        item=item_ref, status=Assignment.Status.LEASED, expires_at__gt=now
    ).exclude(user_id=user.pk)


def _lease(*, project: Project, item: Item, user: AbstractBaseUser, now: datetime) -> Assignment:
    assignment, _ = Assignment.objects.update_or_create(
        item=item,
        user_id=user.pk,
        defaults={
            "project": project,
            "status": Assignment.Status.LEASED,
            "expires_at": now + timedelta(seconds=project.lease_seconds),
        },
    )
    return assignment


class _SlotTaken(Exception):
    """The picked item's last slot went to a colleague between the pick and the lease: pick again at once."""


class _OnlyLockedLeft(Exception):
    """Every open item this analyst could take was locked when the hand-out looked."""


def queue_item_next(
    *, project: Project, user: AbstractBaseUser, client_ts: datetime | None = None, suggest: bool = False
) -> QueueItem | None:
    """The item this analyst should label now (their live lease if they hold one), or None when done.

    Records a view event for the item handed out, and with `suggest` (the viewer may see the model's
    suggestion) a suggestion_shown event when the item carries one.
    """
    for attempt in range(LOCKED_RETRIES + 1):
        try:
            return _hand_out(project=project, user=user, client_ts=client_ts, suggest=suggest)
        except _SlotTaken:
            continue  # the next pick's snapshot sees the colleague's lease
        except _OnlyLockedLeft:
            # Locks are held for milliseconds (a colleague's hand-out, a retrain writing priorities in small
            # batches): try again in a new transaction, holding nothing meanwhile, rather than say "done".
            time.sleep(LOCKED_RETRY_SECONDS * (attempt + 1))
    return None


def gold_check_due(*, project: Project, user: AbstractBaseUser, now: datetime) -> bool:
    """Whether this hand-out should be a gold check. Drawn from a hash of the project, the analyst and the
    moment of the hand-out: the share matches the project's rate and no fixed pattern (every tenth item)
    gives the checks away. A reload does not re-roll it: it finds the lease the draw made. Costs no query
    (it used to count the analyst's answers on every hand-out)."""
    if project.gold_check_rate <= 0:
        return False
    digest = hashlib.sha256(f"gold:{project.pk}:{user.pk}:{now.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < project.gold_check_rate


# --- the hand-out in two statements ------------------------------------------------------------------------
# `next` is the most frequent request there is, so the hand-out is written in SQL rather than in ORM calls:
#  1. PICK: the analyst's live lease if there is one, else (when a gold check is due) the first check they
#     have neither answered nor skipped, else the best open item they have neither answered nor skipped and
#     whose slots are not all held by colleagues' live leases, locked with FOR NO KEY UPDATE SKIP LOCKED on
#     PostgreSQL (a colleague's hand-out in progress is passed over, not waited for). COALESCE evaluates the
#     later sub-selects only when the earlier ones found nothing.
#  2. LEASE: an upsert that counts the colleagues' live leases again and writes the lease only if a slot is
#     still free. It runs after the lock was taken, so on PostgreSQL its snapshot sees every lease committed
#     by whoever held the lock before: two analysts never both take the last slot. On PostgreSQL the view
#     event is written by the same statement (a data-modifying WITH); on SQLite, whose transactions are
#     serialised (BEGIN IMMEDIATE), by a third.
# With the token and the project access that is 6 queries on PostgreSQL, BEGIN and COMMIT included.
_ITEM_COLUMNS = [field.column for field in Item._meta.concrete_fields]
_SELECT_ITEM = ", ".join(f"i.{column}" for column in _ITEM_COLUMNS)
_OPEN_TO_ME = """
    NOT EXISTS (SELECT 1 FROM labeling_annotation a WHERE a.item_id = {ref} AND a.annotator_id = %(user)s)
    AND NOT EXISTS (SELECT 1 FROM labeling_assignment s WHERE s.item_id = {ref} AND s.user_id = %(user)s
                    AND s.status = 'skipped')"""
_HELD_BY_OTHERS = """(SELECT COUNT(*) FROM labeling_assignment l WHERE l.item_id = {ref} AND l.status = 'leased'
                       AND l.expires_at > %(now)s AND l.user_id <> %(user)s)"""
_PICK = """
WITH cur AS (
    SELECT id, item_id, expires_at FROM labeling_assignment
    WHERE project_id = %(project)s AND user_id = %(user)s AND status = 'leased' AND expires_at > %(now)s
    ORDER BY updated_at DESC, id DESC LIMIT 1
)
SELECT {item}, cur.id AS lease_id, cur.expires_at AS lease_expires, {is_check} AS is_check, {async_commit}
    (SELECT COUNT(*) FROM labeling_annotation n WHERE n.item_id = i.id) AS annotation_count
FROM labeling_item i LEFT JOIN cur ON cur.item_id = i.id
WHERE i.id = COALESCE(
    (SELECT item_id FROM cur),
    {gold}
    (SELECT c.id FROM labeling_item c
     WHERE c.project_id = %(project)s AND c.remaining > 0 AND {open_c}
       AND c.remaining > {held_c}
     ORDER BY c.priority DESC, c.id LIMIT 1 {lock}){gold_last}
)"""
_PICK_GOLD = """(SELECT g.item_id FROM labeling_goldlabel g
     WHERE g.project_id = %(project)s AND g.is_check AND {open_g}
     ORDER BY g.item_id LIMIT 1)"""
# A hand-out commits without waiting for its WAL to reach the disk (synchronous_commit off for this one
# transaction, set by the pick itself so that it costs no statement): after a crash of PostgreSQL, leases and
# view events of the last fraction of a second may be missing, and their items simply return to the queue.
# Answers (submit) keep the server's durable commit. This saves the hand-out a disk flush (4.6 ms here).
_ASYNC_COMMIT = "set_config('synchronous_commit', 'off', true) AS async_commit,"
_IS_CHECK = "EXISTS (SELECT 1 FROM labeling_goldlabel k WHERE k.item_id = i.id AND k.is_check)"
_LEASE = """
INSERT INTO labeling_assignment (created_at, updated_at, project_id, item_id, user_id, status, expires_at)
SELECT %(now)s, %(now)s, %(project)s, %(item)s, %(user)s, 'leased', %(expires)s
WHERE NOT EXISTS (SELECT 1 FROM labeling_annotation a WHERE a.item_id = %(item)s AND a.annotator_id = %(user)s)
  AND (%(is_check)s OR {held} < (SELECT remaining FROM labeling_item WHERE id = %(item)s))
ON CONFLICT (item_id, user_id) DO UPDATE
  SET status = 'leased', expires_at = excluded.expires_at, updated_at = excluded.updated_at
RETURNING id, item_id"""
_EVENT_COLUMNS = "project_id, item_id, user_id, type, payload, client_ts, server_ts"


def _pick_sql(*, vendor: str, gold: bool, checks: bool) -> str:
    """The pick: a gold check first where one is due (`gold`), and, in a project with gold checks (`checks`),
    the checks the analyst has not answered once no other item is left for them: every analyst answers every
    check."""
    check = _PICK_GOLD.format(open_g=_OPEN_TO_ME.format(ref="g.item_id"))
    return _PICK.format(
        item=_SELECT_ITEM,
        is_check=_IS_CHECK if checks else "FALSE",
        gold=f"{check}," if gold else "",
        gold_last=f",\n    {check}" if checks else "",
        open_c=_OPEN_TO_ME.format(ref="c.id"),
        held_c=_HELD_BY_OTHERS.format(ref="c.id"),
        lock="FOR NO KEY UPDATE SKIP LOCKED" if vendor == "postgresql" else "",
        async_commit=_ASYNC_COMMIT if vendor == "postgresql" else "",
    )


def _lease_sql(*, vendor: str, events: int) -> str:
    lease = _LEASE.format(held=_HELD_BY_OTHERS.format(ref="%(item)s"))
    if vendor != "postgresql":
        return lease
    rows = ", ".join(f"(%(type{n})s, %(payload{n})s::jsonb)" for n in range(events))
    return f"""WITH lease AS ({lease}), seen AS (
        INSERT INTO labeling_interactionevent ({_EVENT_COLUMNS})
        SELECT %(project)s, lease.item_id, %(user)s, e.type, e.payload, %(client_ts)s::timestamptz, %(now)s
        FROM lease, (VALUES {rows}) AS e(type, payload)
    ) SELECT id, item_id FROM lease"""


def _hand_out(
    *, project: Project, user: AbstractBaseUser, client_ts: datetime | None, suggest: bool
) -> QueueItem | None:
    now = timezone.now()
    vendor = connection.vendor
    ops = connection.ops
    expires = now + timedelta(seconds=project.lease_seconds)
    params: dict[str, Any] = {
        "project": project.pk, "user": user.pk, "now": ops.adapt_datetimefield_value(now),
        "expires": ops.adapt_datetimefield_value(expires), "client_ts": ops.adapt_datetimefield_value(client_ts),
    }  # fmt: skip
    gold = gold_check_due(project=project, user=user, now=now)
    with transaction.atomic():
        checks = project.gold_check_rate > 0
        picked = models_from_sql(Item, _pick_sql(vendor=vendor, gold=gold, checks=checks), params)
        if not picked:
            if _nothing_open_is_locked(vendor=vendor, project=project, user=user, now=now):
                raise _OnlyLockedLeft
            return None
        item = picked[0]
        extra = cast(Any, item)  # the pick's own columns, which raw() sets on the item
        lease_id, is_check = extra.lease_id, bool(extra.is_check)
        events = _view_events(item, suggest=suggest)
        if lease_id is not None:  # the analyst's live lease: the same item again, the lease as it was
            assignment = Assignment(
                pk=lease_id, project=project, item=item, user_id=user.pk, status=Assignment.Status.LEASED,
                expires_at=datetime_from_db(extra.lease_expires) or now,
            )  # fmt: skip
            _events_insert(
                project, item.pk, user, events, client_ts, now, lease_expires=assignment.expires_at
            )
            return QueueItem(item=item, assignment=assignment)
        event_params: dict[str, Any] = {f"type{n}": kind for n, (kind, _) in enumerate(events)}
        for n, (_, payload) in enumerate(events):
            event_params[f"payload{n}"] = json.dumps(_event_payload(events[n][0], payload, expires))
        with statement_cursor() as cursor:
            cursor.execute(
                _lease_sql(vendor=vendor, events=len(events)),
                {**params, **event_params, "item": item.pk, "is_check": is_check},
            )
            leased = cursor.fetchone()
        if leased is None:
            # A colleague took the last slot between the pick and the lock (the pick's snapshot was older
            # than their commit): pass on it and pick again.
            raise _SlotTaken
        assignment = Assignment(
            pk=leased[0], project=project, item=item, user_id=user.pk, status=Assignment.Status.LEASED,
            expires_at=expires,
        )  # fmt: skip
        if vendor != "postgresql":
            _events_insert(project, item.pk, user, events, client_ts, now, lease_expires=expires)
    return QueueItem(item=item, assignment=assignment)


def _view_events(item: Item, *, suggest: bool) -> list[tuple[str, dict[str, object]]]:
    """The events of a hand-out: the view, and the suggestion shown beside the item where there is one."""
    events: list[tuple[str, dict[str, object]]] = [(EventType.VIEW.value, {})]
    if suggest and item.suggested_label:
        events.append((EventType.SUGGESTION_SHOWN.value, {
            "label": item.suggested_label, "confidence": item.suggested_confidence, "model": item.suggested_by,
        }))  # fmt: skip
    elif suggest and item.suggested_spans:  # a span project's model: the spans it pre-fills
        events.append((EventType.SUGGESTION_SHOWN.value, {
            "spans": len(item.suggested_spans), "confidence": item.suggested_confidence, "model": item.suggested_by,
        }))  # fmt: skip
    return events


def _event_payload(kind: str, payload: dict[str, object], lease_expires: datetime) -> dict[str, object]:
    return {"lease_expires_at": lease_expires.isoformat(), **payload} if kind == EventType.VIEW else payload


def _events_insert(
    project: Project, item_id: int, user: AbstractBaseUser, events: list[tuple[str, dict[str, object]]],
    client_ts: datetime | None, now: datetime, *, lease_expires: datetime,
) -> None:  # fmt: skip
    InteractionEvent.objects.bulk_create([
        InteractionEvent(
            project=project, item_id=item_id, user_id=user.pk, type=kind, client_ts=client_ts, server_ts=now,
            payload=_event_payload(kind, payload, lease_expires),
        )
        for kind, payload in events
    ])  # fmt: skip


def _nothing_open_is_locked(*, vendor: str, project: Project, user: AbstractBaseUser, now: datetime) -> bool:
    """After a pick found nothing: whether an open item was passed over only because it was locked (then
    the hand-out tries again) rather than because none is left. Only PostgreSQL skips locked rows."""
    if vendor != "postgresql":
        return False
    answered = Annotation.objects.filter(item=OuterRef("pk"), annotator_id=user.pk)
    passed = Assignment.objects.filter(item=OuterRef("pk"), user_id=user.pk, status=Assignment.Status.SKIPPED)
    held = (
        _live_leases_by_others(item_ref=OuterRef("pk"), user=user, now=now)
        .order_by()
        .values("item")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        Item.objects.filter(project=project, remaining__gt=0)
        .exclude(Exists(answered))
        .exclude(Exists(passed))
        .annotate(held=Coalesce(Subquery(held), 0))
        .filter(remaining__gt=F("held"))
        .exists()
    )


def queue_item_skip(
    *,
    project: Project,
    user: AbstractBaseUser,
    item_id: int,
    dwell_ms: int | None = None,
    input_method: str = "",
    client_ts: datetime | None = None,
) -> Assignment:
    """Passes on an item: it leaves this analyst's queue and its slot returns to the others at once."""
    input_method_validate(input_method)
    now = timezone.now()
    with transaction.atomic():
        item = project_item_get(project=project, item_id=item_id)
        assignment, _ = Assignment.objects.update_or_create(
            item=item, user_id=user.pk,
            defaults={"project": project, "status": Assignment.Status.SKIPPED, "expires_at": now},
        )  # fmt: skip
        InteractionEvent.objects.create(
            project=project, item=item, user_id=user.pk, type=EventType.SKIP,
            payload={"dwell_ms": dwell_ms, "input_method": input_method}, client_ts=client_ts, server_ts=now,
        )  # fmt: skip
    return assignment


def queue_skips_reset(*, project: Project, user: AbstractBaseUser) -> int:
    """Brings the items this analyst skipped back into their queue; returns how many."""
    return Assignment.objects.filter(
        project=project, user_id=user.pk, status=Assignment.Status.SKIPPED
    ).delete()[0]


def queue_lease_release_others(
    *, project: Project, user: AbstractBaseUser, keep_item_id: int, now: datetime
) -> None:
    """Ends this analyst's other live leases, so those items return to the queue at once."""
    Assignment.objects.filter(
        project=project, user_id=user.pk, status=Assignment.Status.LEASED, expires_at__gt=now
    ).exclude(item_id=keep_item_id).update(expires_at=now, updated_at=now)


def queue_lease_take(*, project: Project, user: AbstractBaseUser, item: Item, now: datetime) -> Assignment:
    """Leases a given item to this analyst (after an undo: they answer it again) and makes it their current one."""
    queue_lease_release_others(project=project, user=user, keep_item_id=item.pk, now=now)
    return _lease(project=project, item=item, user=user, now=now)
