"""The labeling queue: which item an analyst sees next, leases that reserve it, and skips.

An item is open while `remaining > 0` (the project's overlap minus its annotations). The queue hands an
analyst the open item of highest priority (then import order) that they have neither answered nor skipped
and whose open slots are not all held by other analysts' live leases. The hand-out locks the item's row
(`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL) and counts the live leases again once it holds the
lock: two analysts can never both take the last slot of an item. On SQLite, transactions start with
`BEGIN IMMEDIATE` (settings), which serialises hand-outs: correct, if slower.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.exceptions import NotFoundError
from labeling.choices import EventType
from labeling.models import Annotation, Assignment, GoldLabel, InteractionEvent
from projects.models import Item, Project

# How many candidates one hand-out reads before locking them one by one. Under contention most are
# skipped (locked by a colleague); 25 keeps the read cheap and makes running dry very unlikely.
CANDIDATE_BATCH = 25
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


def input_method_validate(value: str) -> str:
    if value not in INPUT_METHODS:
        raise ValidationError(ERROR_INPUT_METHOD, code="input_method")
    return value


def project_item_get(*, project: Project, item_id: int, lock: bool = False) -> Item:
    items = Item.objects.select_for_update() if lock else Item.objects.all()
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


def _candidate_ids(*, project: Project, user: AbstractBaseUser, now: datetime, tried: set[int]) -> list[int]:
    answered = Annotation.objects.filter(item=OuterRef("pk"), annotator_id=user.pk)
    passed = Assignment.objects.filter(item=OuterRef("pk"), user_id=user.pk, status=Assignment.Status.SKIPPED)
    held = (
        _live_leases_by_others(item_ref=OuterRef("pk"), user=user, now=now)
        .order_by()
        .values("item")
        .annotate(n=Count("id"))
        .values("n")
    )
    return list(
        Item.objects.filter(project=project, remaining__gt=0)
        .exclude(pk__in=tried)
        .exclude(Exists(answered))
        .exclude(Exists(passed))
        .annotate(held=Coalesce(Subquery(held), 0))
        .filter(remaining__gt=F("held"))
        .order_by("-priority", "id")
        .values_list("id", flat=True)[:CANDIDATE_BATCH]
    )


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


class _Locked(Exception):
    """The item's row was skipped: another transaction holds its lock (a colleague's hand-out or submit, a
    priority write), or, rarely, it was closed since the candidates were read."""


class _OnlyLockedLeft(Exception):
    """Every open item this analyst could take was locked when the hand-out looked."""


def _try_acquire(
    *, project: Project, user: AbstractBaseUser, item_id: int, now: datetime
) -> Assignment | None:
    """Locks the item and leases it if a slot is still free. Raises _Locked when it skipped the item: the
    candidates were open a moment ago, so a skipped one is almost always locked, and telling the two apart
    would cost a query per candidate on the hot path."""
    item = (
        Item.objects.select_for_update(skip_locked=True)
        .filter(pk=item_id, project=project, remaining__gt=0)
        .first()
    )
    if item is None:
        raise _Locked
    # Counted again under the lock: any lease committed by whoever held it before is visible now.
    held = _live_leases_by_others(item_ref=item.pk, user=user, now=now).count()
    answered = Annotation.objects.filter(item=item, annotator_id=user.pk).exists()
    if answered or held >= item.remaining:
        return None
    return _lease(project=project, item=item, user=user, now=now)


def _current_lease(*, project: Project, user: AbstractBaseUser, now: datetime) -> Assignment | None:
    return (
        Assignment.objects.select_related("item")
        .filter(project=project, user_id=user.pk, status=Assignment.Status.LEASED, expires_at__gt=now)
        .order_by("-updated_at", "-id")
        .first()
    )


def queue_item_next(
    *, project: Project, user: AbstractBaseUser, client_ts: datetime | None = None
) -> QueueItem | None:
    """The item this analyst should label now (their live lease if they hold one), or None when done.

    Records a view event for the item handed out.
    """
    for attempt in range(LOCKED_RETRIES + 1):
        try:
            return _hand_out(project=project, user=user, client_ts=client_ts)
        except _OnlyLockedLeft:
            # Locks are held for milliseconds (a colleague's hand-out, a retrain writing priorities in small
            # batches): try again in a new transaction, holding nothing meanwhile, rather than say "done".
            time.sleep(LOCKED_RETRY_SECONDS * (attempt + 1))
    return None


def _hand_out(*, project: Project, user: AbstractBaseUser, client_ts: datetime | None) -> QueueItem | None:
    now = timezone.now()
    with transaction.atomic():
        assignment = _current_lease(project=project, user=user, now=now)
        if assignment is None:
            assignment = _acquire(project=project, user=user, now=now)
        if assignment is None:
            return None
        InteractionEvent.objects.create(
            project=project, item_id=assignment.item_id, user_id=user.pk, type=EventType.VIEW,
            payload={"lease_expires_at": assignment.expires_at.isoformat()}, client_ts=client_ts, server_ts=now,
        )  # fmt: skip
    return QueueItem(item=assignment.item, assignment=assignment)


def gold_check_due(*, project: Project, user: AbstractBaseUser) -> bool:
    """Whether this hand-out should be a gold check. Drawn from a hash of the project, the analyst and how
    many items they have answered: the share matches the project's rate, the same state gives the same
    answer (a reload does not re-roll it), and no fixed pattern (every tenth item) gives the checks away."""
    if project.gold_check_rate <= 0:
        return False
    answered = Annotation.objects.filter(project=project, annotator_id=user.pk).count()
    digest = hashlib.sha256(f"gold:{project.pk}:{user.pk}:{answered}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < project.gold_check_rate


def _gold_check_acquire(*, project: Project, user: AbstractBaseUser, now: datetime) -> Assignment | None:
    """A gold check this analyst has neither answered nor skipped. Every analyst answers every check, so
    no slot is counted: it is leased like any item and looks like any item."""
    answered = Annotation.objects.filter(item=OuterRef("item_id"), annotator_id=user.pk)
    passed = Assignment.objects.filter(
        item=OuterRef("item_id"), user_id=user.pk, status=Assignment.Status.SKIPPED
    )
    check = (
        GoldLabel.objects.filter(project=project, is_check=True)
        .exclude(Exists(answered))
        .exclude(Exists(passed))
        .select_related("item")
        .order_by("item_id")
        .first()
    )
    if check is None:
        return None
    return _lease(project=project, item=check.item, user=user, now=now)


def _acquire(*, project: Project, user: AbstractBaseUser, now: datetime) -> Assignment | None:
    if gold_check_due(project=project, user=user):
        assignment = _gold_check_acquire(project=project, user=user, now=now)
        if assignment is not None:
            return assignment
    tried: set[int] = set()
    locked = False
    while True:
        candidates = _candidate_ids(project=project, user=user, now=now, tried=tried)
        if not candidates:
            break
        for item_id in candidates:
            try:
                assignment = _try_acquire(project=project, user=user, item_id=item_id, now=now)
            except _Locked:
                locked, assignment = True, None
            if assignment is not None:
                return assignment
            tried.add(item_id)
    if locked:
        raise _OnlyLockedLeft
    return None


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
