"""Bulk actions on a selection of the item browser (the items its filters select): send them to review, make
their gold labels gold checks, delete them. Each returns what it did, counted; the doors take the selection
from the browser's FilterSet, so an action reaches exactly the items the page lists."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.queries import filter_ids
from labeling.models import GoldLabel
from oversight.choices import ReviewReason
from oversight.services.review import MAX_NOTE, review_requests_add
from projects.models import Item, Project

# Items one bulk action takes: a review request or a deletion's cascade is written per item, and 10,000
# keep one action within seconds. A bigger selection is refused: narrow the filter, or act in steps.
BULK_LIMIT = 10_000
ERROR_TOO_MANY = (
    "The selection holds more than {limit:,} items; narrow the filter (bulk actions take at most that)."
)
ERROR_EMPTY = "No item matches the filter."
ERROR_CONFIRM = "The selection holds {count:,} items: confirm that count to delete them."
ERROR_NOTE = f"A note may be at most {MAX_NOTE} characters."
SKIPPED_HAS_GOLD = "has_gold"  # review: an item with a gold label is decided already
SKIPPED_IN_QUEUE = "in_queue"  # review: already sent by hand, and waiting
SKIPPED_NO_GOLD = "no_gold"  # gold check: an item without a gold label has no answer to check against
SKIPPED_ALREADY = "already"  # gold check: it is one already


@dataclass(frozen=True)
class BulkResult:
    """What a bulk action did: items selected, items changed, and the others per reason they were left."""

    selected: int
    changed: int
    skipped: dict[str, int] = field(default_factory=dict)


def item_selection_ids(*, items: QuerySet[Item]) -> list[int]:
    """The ids of the selected items (at most BULK_LIMIT; more is refused)."""
    ids = list(items.values_list("pk", flat=True)[: BULK_LIMIT + 1])
    if len(ids) > BULK_LIMIT:
        raise ValidationError(ERROR_TOO_MANY.format(limit=BULK_LIMIT), code="too_many")
    if not ids:
        raise ValidationError(ERROR_EMPTY, code="empty")
    return ids


def items_review_send(*, project: Project, items: QuerySet[Item], note: str = "") -> BulkResult:
    """Sends the selected items to the review queue by hand (reason "manual", with the note); items that have
    a gold label, or are waiting there for this reason already, are left as they are."""
    if len(note) > MAX_NOTE:
        raise ValidationError(ERROR_NOTE, code="note")
    ids = item_selection_ids(items=items)
    with transaction.atomic():
        with_gold = filter_ids(GoldLabel.objects.filter(project=project), "item_id", ids).count()
        detail = {item_id: {"note": note} for item_id in ids}
        added = review_requests_add(project=project, item_ids=ids, reason=ReviewReason.MANUAL, detail=detail)
    return BulkResult(
        selected=len(ids),
        changed=added,
        skipped={SKIPPED_HAS_GOLD: with_gold, SKIPPED_IN_QUEUE: len(ids) - with_gold - added},
    )


def items_gold_check_set(*, project: Project, items: QuerySet[Item]) -> BulkResult:
    """Makes the gold labels of the selected items gold checks (mixed into analysts' queues); an item without
    a gold label has no answer to check against and is left out."""
    ids = item_selection_ids(items=items)
    with transaction.atomic():
        golds = filter_ids(GoldLabel.objects.filter(project=project), "item_id", ids)
        with_gold = golds.count()
        changed = golds.filter(is_check=False).update(is_check=True, updated_at=timezone.now())
    return BulkResult(
        selected=len(ids),
        changed=changed,
        skipped={SKIPPED_NO_GOLD: len(ids) - with_gold, SKIPPED_ALREADY: with_gold - changed},
    )


def items_delete(*, project: Project, items: QuerySet[Item], confirm: int | None) -> BulkResult:
    """Deletes the selected items and everything about them (answers, gold, flags, reviews, events), once
    `confirm` repeats how many there are: a selection that changed since it was counted is refused."""
    ids = item_selection_ids(items=items)
    if confirm != len(ids):
        raise ValidationError(ERROR_CONFIRM.format(count=len(ids)), code="confirm")
    with transaction.atomic():
        # The project's row first: a truth-inference run writing the project's posteriors holds it, and its
        # rows for these items go in without per-row foreign-key checks (oversight.services.truth._copy).
        Project.objects.select_for_update(no_key=True).filter(pk=project.pk).first()
        _, per_model = filter_ids(Item.objects.filter(project=project), "pk", ids).delete()
    return BulkResult(selected=len(ids), changed=per_model.get(Item._meta.label, 0))
