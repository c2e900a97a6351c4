"""Review and adjudication: what goes into the reviewer queue, claiming an item, and deciding its gold label.

Items enter the queue for a reason (ReviewReason): annotators disagree, an analyst flagged it, the label
model is unsure, a random audit drew it, or its analyst's labels all go to review. Each item has at most one
open request, which collects every reason. The services below are called explicitly by the writes that
cause them (submit, flag, a finished label-model run), and `review_queue_refresh` rebuilds the queue from
the data for imports and projects that predate it. A decision stores the item's gold label with its
provenance, resolves the request and the item's flags, and is recorded as an interaction event.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, User
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from core.exceptions import NotFoundError
from core.spans import SpanDict
from labeling.choices import EventType, GoldSource
from labeling.models import Annotation, Flag, GoldLabel, InteractionEvent
from oversight.choices import REVIEW_REASON_PRIORITY, ReviewReason
from oversight.models import ReviewRequest
from oversight.services.review_spans import ERROR_SPANS_ONLY, gold_spans_decided
from oversight.span_answers import span_check_passed, spans_answer, spans_disagreeing
from projects.models import Item, Membership, Project
from projects.services.label_keys import annotation_labels_validate
from weak_supervision.hooks import LABEL_MODEL_REVIEW_LIMIT
from weak_supervision.selectors import latest_run, weak_labels_get

# A reviewer keeps the item they are deciding for this long; after it, another reviewer may take it.
REVIEW_CLAIM = timedelta(minutes=15)
MAX_NOTE = 4000
ERROR_NOTE = f"A note may be at most {MAX_NOTE} characters."
ERROR_NOT_MEMBER = "That user is not a member of this project."
ERROR_GOLD_ROW = "Line {line}: {message}"
ERROR_GOLD_UNKNOWN_ITEM = "no item with the external id '{external_id}'."
ERROR_GOLD_COLUMNS = "The CSV needs the columns external_id and label (missing: {missing})."
ERROR_GOLD_EMPTY = "No answers given."
ERROR_GOLD_DUPLICATE = "the external id '{external_id}' appears twice."


def _reason_order(reasons: Iterable[str]) -> list[str]:
    return sorted(set(reasons), key=lambda reason: -REVIEW_REASON_PRIORITY.get(reason, 0))


def review_requests_add(
    *, project: Project, item_ids: Iterable[int], reason: str, detail: dict[int, Any] | None = None,
    without_gold: bool = False,
) -> int:  # fmt: skip
    """Puts items into the review queue for `reason` (adding it to an open request); returns how many items
    were new to the queue or got a new reason. Items that already have a gold label are left out, unless
    `without_gold`: the caller knows that none of them has one, or wants their gold label looked at again (a
    likely label error), so they are not looked up."""
    wanted = sorted(set(item_ids))
    if not without_gold:
        gold = set(GoldLabel.objects.filter(item_id__in=wanted).values_list("item_id", flat=True))
        wanted = [item_id for item_id in wanted if item_id not in gold]
    if not wanted:
        return 0
    changed: list[ReviewRequest] = []
    now = timezone.now()
    if len(wanted) == 1:
        note = (detail or {}).get(wanted[0])
        if connection.vendor == "postgresql":
            return int(_request_open_or_add(project, wanted[0], [reason], note, now))
        if _request_open(project, wanted[0], reason, note, now):
            return 1
    # Joins the caller's transaction without a savepoint (a submit's): a failure here fails the submit.
    with transaction.atomic(savepoint=False):
        open_requests = {
            request.item_id: request
            for request in ReviewRequest.objects.select_for_update().filter(
                item_id__in=wanted, status=ReviewRequest.Status.OPEN
            )
        }
        new = []
        for item_id in wanted:
            note = (detail or {}).get(item_id)
            request = open_requests.get(item_id)
            if request is None:
                new.append(
                    ReviewRequest(project=project, item_id=item_id, reasons=[reason],
                                  detail={reason: note} if note is not None else {},
                                  priority=REVIEW_REASON_PRIORITY.get(reason, 0))
                )  # fmt: skip
                continue
            if reason in request.reasons:
                continue
            request.reasons = _reason_order([*request.reasons, reason])
            if note is not None:
                request.detail = {**request.detail, reason: note}
            request.priority = max(request.priority, REVIEW_REASON_PRIORITY.get(reason, 0))
            request.updated_at = now
            changed.append(request)
        ReviewRequest.objects.bulk_update(
            changed, ["reasons", "detail", "priority", "updated_at"], batch_size=1000
        )
        ReviewRequest.objects.bulk_create(new, batch_size=1000)
    return len(changed) + len(new)


# One item into the queue in one statement (a submit's disagreement or audit draw): a new open request, or
# nothing where the item has one already (the one-open-request-per-item constraint), which the caller then
# merges its reason into.
_REQUEST_OPEN = """
INSERT INTO {table} (created_at, updated_at, project_id, item_id, reasons, detail, priority, status)
VALUES (%(now)s, %(now)s, %(project)s, %(item)s, {reasons}, {detail}, %(priority)s, 'open')
ON CONFLICT DO NOTHING RETURNING id"""


def _request_open(project: Project, item_id: int, reason: str, note: Any, now: datetime) -> bool:
    """Opens a request for the item with this one reason; False when an open request was there already."""
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    sql = _REQUEST_OPEN.format(
        table=ReviewRequest._meta.db_table, reasons=f"%(reasons)s{cast}", detail=f"%(detail)s{cast}"
    )
    params = {
        "now": connection.ops.adapt_datetimefield_value(now), "project": project.pk, "item": item_id,
        "reasons": json.dumps([reason]), "detail": json.dumps({reason: note} if note is not None else {}),
        "priority": REVIEW_REASON_PRIORITY.get(reason, 0),
    }  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


# PostgreSQL: the same for one or more reasons and, where the item has an open request already, the reasons
# merged into it (kept in priority order, then by name), in the one statement: a submit's disagreement, audit
# draw and review-all analyst cost one query together, whether or not the item is in the queue. Nothing
# changes where the request has every reason already.
_REQUEST_OPEN_OR_ADD = """
WITH opened AS (
    INSERT INTO {table} (created_at, updated_at, project_id, item_id, reasons, detail, priority, status)
    VALUES (%(now)s, %(now)s, %(project)s, %(item)s, %(reasons)s::jsonb, %(detail)s::jsonb, %(priority)s, 'open')
    ON CONFLICT DO NOTHING RETURNING id
), merged AS (
    UPDATE {table} r
    SET reasons = (SELECT jsonb_agg(reason ORDER BY {rank} DESC, reason)
                   FROM (SELECT DISTINCT value AS reason
                         FROM jsonb_array_elements_text(r.reasons || %(reasons)s::jsonb)) AS given),
        detail = r.detail || %(detail)s::jsonb, priority = greatest(r.priority, %(priority)s), updated_at = %(now)s
    WHERE r.item_id = %(item)s AND r.status = 'open' AND NOT r.reasons @> %(reasons)s::jsonb
      AND NOT EXISTS (SELECT 1 FROM opened)
    RETURNING r.id
)
SELECT (SELECT count(*) FROM opened) + (SELECT count(*) FROM merged)"""


# A reason's priority in SQL, for the merge's order (REVIEW_REASON_PRIORITY).
_REASON_RANK = (
    "CASE reason "
    + " ".join(f"WHEN '{key}' THEN {int(priority)}" for key, priority in REVIEW_REASON_PRIORITY.items())
    + " ELSE 0 END"
)


def _request_open_or_add(
    project: Project, item_id: int, reasons: Sequence[str], note: Any, now: datetime
) -> bool:
    """Opens a request for the item with these reasons, or adds them to its open one (PostgreSQL, one
    statement); False where its open request had every reason already. `note` is the first reason's detail."""
    params: dict[str, Any] = {
        "now": now, "project": project.pk, "item": item_id, "reasons": json.dumps(_reason_order(reasons)),
        "detail": json.dumps({reasons[0]: note} if note is not None else {}),
        "priority": max(REVIEW_REASON_PRIORITY.get(reason, 0) for reason in reasons),
    }  # fmt: skip
    sql = _REQUEST_OPEN_OR_ADD.format(table=ReviewRequest._meta.db_table, rank=_REASON_RANK)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return bool(row and row[0])


def review_item_reasons_add(
    *, project: Project, item_id: int, reasons: Sequence[str], without_gold: bool = False
) -> int:
    """Puts one item into the review queue for several reasons at once (a submit's): as review_requests_add,
    in one statement on PostgreSQL; 0 where nothing changed (or the item has a gold label, unless
    `without_gold`: see review_requests_add)."""
    if not reasons or (not without_gold and GoldLabel.objects.filter(item_id=item_id).exists()):
        return 0
    if connection.vendor == "postgresql":
        return int(_request_open_or_add(project, item_id, reasons, None, timezone.now()))
    return sum(
        review_requests_add(project=project, item_ids=[item_id], reason=reason, without_gold=True)
        for reason in reasons
    )


def audit_drawn(*, project: Project, item_id: int) -> bool:
    """Whether the random audit draws this item: a hash of the project and item, so the draw is the same
    every time it is asked (a retry, a refresh) and cannot be steered by who labels when."""
    if project.review_audit_rate <= 0:
        return False
    digest = hashlib.sha256(f"audit:{project.pk}:{item_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < project.review_audit_rate


def _disagreeing(label_sets: Iterable[Iterable[str]]) -> bool:
    return len({frozenset(labels) for labels in label_sets}) > 1


def review_on_submit(
    *, project: Project, annotation: Annotation, membership: Membership | None, created: bool = True,
    other_labels: Sequence[Sequence[str]] | None = None, is_check: bool | None = None,
    has_gold: bool | None = None,
) -> None:  # fmt: skip
    """What a new or changed answer sends to review: a disagreement with the item's other answers, the
    random audit, an analyst whose labels all go to review; and the gold-check accuracy of its analyst.
    A changed answer (created False) that ends a disagreement takes that reason off the item's request."""
    # other_labels, is_check and has_gold: what the submit already read under the item's lock (the hot path
    # pays no query for them); None reads them here.
    item_id = annotation.item_id
    if project.is_spans:
        # Span answers disagree on their spans, which the submit does not pass on (labels are only the types).
        other_spans = (
            Annotation.objects.filter(item_id=item_id).exclude(pk=annotation.pk).values_list("spans")
        )
        answers = [annotation.spans, *(spans for (spans,) in other_spans)]
        disagree = len(answers) > 1 and spans_disagreeing(answers)
    else:
        others = (
            Annotation.objects.filter(item_id=item_id)
            .exclude(pk=annotation.pk)
            .values_list("labels", flat=True)
            if other_labels is None
            else other_labels
        )
        label_sets = [annotation.labels, *others]
        disagree = len(label_sets) > 1 and _disagreeing(label_sets)
    reasons: list[str] = []
    if disagree:
        reasons.append(ReviewReason.DISAGREEMENT)
    elif not created:
        # Only a changed answer can end a disagreement, so a new one (the hot path) pays no query for this.
        review_reason_drop(item_id=item_id, reason=ReviewReason.DISAGREEMENT)
    if audit_drawn(project=project, item_id=item_id):
        reasons.append(ReviewReason.AUDIT)
    if membership is not None and membership.review_all_labels:
        reasons.append(ReviewReason.ANALYST)
    review_item_reasons_add(project=project, item_id=item_id, reasons=reasons, without_gold=has_gold is False)
    if membership is not None and project.gold_auto_review and not membership.review_all_labels:
        if is_check is None:
            is_check = GoldLabel.objects.filter(item_id=item_id, is_check=True).exists()
        if is_check and gold_check_below_threshold(project=project, user_id=membership.user_id):
            membership_review_all_set(project=project, user_id=membership.user_id, enabled=True)


def review_on_take_back(*, project: Project, item_id: int) -> bool:
    """An answer was taken back: where the item's remaining answers agree (or one is left), the disagreement
    it made is over, and that reason comes off the item's request. Returns whether the request changed."""
    field = "spans" if project.is_spans else "labels"
    answers = list(Annotation.objects.filter(item_id=item_id).values_list(field, flat=True))
    disagree = len(answers) > 1 and (
        spans_disagreeing(answers) if project.is_spans else _disagreeing(answers)
    )
    if disagree:
        return False
    return review_reason_drop(item_id=item_id, reason=ReviewReason.DISAGREEMENT)


def review_reason_drop(*, item_id: int, reason: str) -> bool:
    """Takes `reason` off the item's open request; a request left without reasons is closed (resolved by
    nobody). Returns whether the request changed."""
    with transaction.atomic():
        request = (
            ReviewRequest.objects.select_for_update()
            .filter(item_id=item_id, status=ReviewRequest.Status.OPEN)
            .first()
        )
        if request is None or reason not in request.reasons:
            return False
        request.reasons = [kept for kept in request.reasons if kept != reason]
        request.detail = {key: value for key, value in request.detail.items() if key != reason}
        request.priority = max((REVIEW_REASON_PRIORITY.get(kept, 0) for kept in request.reasons), default=0)
        fields = ["reasons", "detail", "priority", "updated_at"]
        if not request.reasons:
            request.status = ReviewRequest.Status.RESOLVED
            request.resolved_at = timezone.now()
            request.claimed_until = None
            fields += ["status", "resolved_at", "claimed_until"]
        request.save(update_fields=fields)
    return True


def gold_check_counts(*, project: Project, user_id: int) -> tuple[int, int]:
    """(answered, correct) gold checks of one analyst. Span projects: a check is correct when the answer's span
    F1 (exact match) against the gold spans reaches oversight.span_answers.SPAN_CHECK_PASS_F1."""
    field = "spans" if project.is_spans else "labels"
    golds = dict(GoldLabel.objects.filter(project=project, is_check=True).values_list("item_id", field))
    answered = correct = 0
    for item_id, given in Annotation.objects.filter(
        project=project, annotator_id=user_id, item_id__in=list(golds)
    ).values_list("item_id", field):
        answered += 1
        if project.is_spans:
            correct += span_check_passed(golds[item_id], given)
        else:
            correct += frozenset(given) == frozenset(golds[item_id])
    return answered, correct


def gold_check_below_threshold(*, project: Project, user_id: int) -> bool:
    answered, correct = gold_check_counts(project=project, user_id=user_id)
    return answered >= project.gold_min_checks and correct / answered < project.gold_accuracy_threshold


def membership_review_all_set(*, project: Project, user_id: int, enabled: bool) -> int:
    """Sends every label of this member to review from now on (or stops it). Enabling it also queues the
    items they have already labeled; returns how many items entered the queue."""
    with transaction.atomic():
        updated = Membership.objects.filter(project=project, user_id=user_id).update(
            review_all_labels=enabled
        )
        if not updated:
            raise NotFoundError(ERROR_NOT_MEMBER)
        if not enabled:
            return 0
        item_ids = Annotation.objects.filter(project=project, annotator_id=user_id).values_list(
            "item_id", flat=True
        )
        return review_requests_add(project=project, item_ids=list(item_ids), reason=ReviewReason.ANALYST)


def review_queue_refresh(*, project: Project) -> dict[str, int]:
    """Rebuilds the queue from the data (disagreements, open flags, the audit sample, the latest run's
    least confident items). Idempotent: what is already queued is left as it is. Returns counts per reason."""
    gold = set(GoldLabel.objects.filter(project=project).values_list("item_id", flat=True))
    sets: dict[int, set[frozenset[Any]]] = defaultdict(set)
    field = "spans" if project.is_spans else "labels"
    for item_id, given in (
        Annotation.objects.filter(project=project).values_list("item_id", field).iterator(chunk_size=5000)
    ):
        sets[item_id].add(spans_answer(given) if project.is_spans else frozenset(given))
    disagreements = [item_id for item_id, seen in sets.items() if len(seen) > 1 and item_id not in gold]
    flagged = Flag.objects.filter(project=project, resolved_at__isnull=True).values_list("item_id", flat=True)
    audit = [item_id for item_id in sets if audit_drawn(project=project, item_id=item_id)]
    reviewed = set(
        Membership.objects.filter(project=project, review_all_labels=True).values_list("user_id", flat=True)
    )
    by_analyst = Annotation.objects.filter(project=project, annotator_id__in=reviewed).values_list(
        "item_id", flat=True
    )
    counts = {
        ReviewReason.DISAGREEMENT: review_requests_add(
            project=project, item_ids=disagreements, reason=ReviewReason.DISAGREEMENT
        ),
        ReviewReason.FLAG: review_requests_add(
            project=project, item_ids=list(flagged), reason=ReviewReason.FLAG
        ),
        ReviewReason.AUDIT: review_requests_add(project=project, item_ids=audit, reason=ReviewReason.AUDIT),
        ReviewReason.ANALYST: review_requests_add(
            project=project, item_ids=list(by_analyst), reason=ReviewReason.ANALYST
        ),
    }
    run = latest_run(project=project)
    answers = weak_labels_get(run=run) if run is not None else {}
    confidences = {item_id: answer.confidence for item_id, answer in answers.items() if answer.label}
    counts[ReviewReason.LABEL_MODEL] = review_uncertain_add(project=project, confidences=confidences)
    return {str(reason): count for reason, count in counts.items()}


def review_uncertain_add(*, project: Project, confidences: dict[int, float]) -> int:
    """Queues the items whose label-model confidence is under the project's threshold, least sure first,
    at most LABEL_MODEL_REVIEW_LIMIT of them."""
    doubtful = sorted(
        (confidence, item_id)
        for item_id, confidence in confidences.items()
        if confidence < project.review_confidence_threshold
    )[:LABEL_MODEL_REVIEW_LIMIT]
    return review_requests_add(
        project=project,
        item_ids=[item_id for _, item_id in doubtful],
        reason=ReviewReason.LABEL_MODEL,
        detail={item_id: {"confidence": confidence} for confidence, item_id in doubtful},
    )


@dataclass(frozen=True)
class ReviewClaim:
    request: ReviewRequest
    item: Item


def review_next(*, project: Project, reviewer: AbstractBaseUser) -> ReviewClaim | None:
    """The item this reviewer should decide now: the one they hold, else the most urgent open request that
    nobody holds and they have not passed on, claimed for REVIEW_CLAIM."""
    now = timezone.now()
    with transaction.atomic():
        mine = (
            ReviewRequest.objects.select_related("item")
            .filter(project=project, status=ReviewRequest.Status.OPEN, claimed_by_id=reviewer.pk,
                    claimed_until__gt=now)
            .first()
        )  # fmt: skip
        if mine is not None:
            return ReviewClaim(request=mine, item=mine.item)
        free = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now) | Q(claimed_by_id=reviewer.pk)
        request = (
            ReviewRequest.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("item")
            .filter(project=project, status=ReviewRequest.Status.OPEN)
            .filter(free)
            .exclude(passed_by=reviewer.pk)
            .order_by("-priority", "id")
            .first()
        )
        if request is None:
            return None
        request.claimed_by_id = reviewer.pk
        request.claimed_until = now + REVIEW_CLAIM
        request.save(update_fields=["claimed_by", "claimed_until", "updated_at"])
    return ReviewClaim(request=request, item=request.item)


def review_pass(*, project: Project, reviewer: AbstractBaseUser, item_id: int) -> None:
    """Leaves an item to another reviewer: it stays in the queue, but not in this reviewer's."""
    with transaction.atomic():
        request = _open_request(project=project, item_id=item_id, lock=True)
        request.passed_by.add(reviewer.pk)
        request.claimed_by = None
        request.claimed_until = None
        request.save(update_fields=["claimed_by", "claimed_until", "updated_at"])


def _open_request(*, project: Project, item_id: int, lock: bool = False) -> ReviewRequest:
    requests = ReviewRequest.objects.select_for_update() if lock else ReviewRequest.objects.all()
    request = requests.filter(project=project, item_id=item_id, status=ReviewRequest.Status.OPEN).first()
    if request is None:
        raise NotFoundError("This item is not in the review queue.")
    return request


def _provenance(item: Item, *, spans: bool = False) -> list[dict[str, Any]]:
    """The item's annotations as the decision saw them; with `spans` (span projects), their spans too."""
    rows = (
        Annotation.objects.filter(item=item)
        .order_by("created_at", "id")
        .values_list(
            "id", "annotator_id", "annotator__username", "external_annotator", "labels", "source", "spans"
        )
    )
    return [
        {"annotation_id": pk, "annotator_id": annotator_id,
         "annotator": username or external or "import", "labels": labels, "source": source,
         **({"spans": given_spans} if spans else {})}
        for pk, annotator_id, username, external, labels, source, given_spans in rows
    ]  # fmt: skip


def review_decide(
    *,
    project: Project,
    reviewer: User,
    item_id: int,
    labels: list[str] | None = None,
    spans: Sequence[Any] | None = None,
    annotation_id: int | None = None,
    note: str = "",
    use_as_check: bool = False,
    dwell_ms: int | None = None,
) -> GoldLabel:
    """Sets an item's gold label (adjudication), with who decided, when, the note and the annotations seen.

    Item projects take `labels`. Span projects take the gold `spans` (core.spans dicts, checked by
    gold_spans_validate; an empty list: no entities) or `annotation_id`, the answer on the item whose spans
    the reviewer accepts; the gold label's `labels` are then the types present, and `based_on` lists each
    annotation's spans too. Deciding an item that is not in the queue is allowed (a reviewer may correct any
    item); deciding again replaces the gold label, and the previous one stays on the review event.
    """
    if not project.is_spans and (spans is not None or annotation_id is not None):
        raise ValidationError(ERROR_SPANS_ONLY, code="spans")
    keys = [] if project.is_spans else annotation_labels_validate(project=project, labels=labels or [])
    if len(note) > MAX_NOTE:
        raise ValidationError(ERROR_NOTE, code="note")
    now = timezone.now()
    with transaction.atomic():
        item = Item.objects.select_for_update(no_key=True).filter(project=project, pk=item_id).first()
        if item is None:
            raise NotFoundError("Item not found in this project.")
        previous = GoldLabel.objects.filter(item=item).first()
        based_on = _provenance(item, spans=project.is_spans)
        gold_spans: list[SpanDict] = []
        if project.is_spans:
            keys, gold_spans = gold_spans_decided(
                project=project, text=item.text, spans=spans, annotation_id=annotation_id, based_on=based_on
            )
        gold, _ = GoldLabel.objects.update_or_create(
            item=item,
            defaults={"project": project, "labels": keys, "spans": gold_spans, "source": GoldSource.ADJUDICATED,
                      "is_check": use_as_check, "decided_by": reviewer, "note": note, "based_on": based_on},
        )  # fmt: skip
        request = ReviewRequest.objects.filter(item=item, status=ReviewRequest.Status.OPEN).first()
        if request is not None:
            request.status = ReviewRequest.Status.RESOLVED
            request.resolved_by = reviewer
            request.resolved_at = now
            request.claimed_until = None
            request.save(
                update_fields=["status", "resolved_by", "resolved_at", "claimed_until", "updated_at"]
            )
        Flag.objects.filter(item=item, resolved_at__isnull=True).update(resolved_at=now, updated_at=now)
        InteractionEvent.objects.create(
            project=project, item=item, user=reviewer, type=EventType.REVIEW, server_ts=now,
            payload={"labels": keys, "note": note[:500], "reasons": request.reasons if request else [],
                     "previous": previous.labels if previous else None, "use_as_check": use_as_check,
                     "annotations": [row["annotation_id"] for row in based_on], "dwell_ms": dwell_ms,
                     **({"spans": gold_spans, "previous_spans": previous.spans if previous else None,
                         "accepted": annotation_id} if project.is_spans else {})},
        )  # fmt: skip
    return gold


def review_request_manual(*, project: Project, item_id: int, note: str = "") -> int:
    """A reviewer or owner sends one item to review by hand."""
    if not Item.objects.filter(project=project, pk=item_id).exists():
        raise NotFoundError("Item not found in this project.")
    return review_requests_add(
        project=project, item_ids=[item_id], reason=ReviewReason.MANUAL, detail={item_id: {"note": note}}
    )


@dataclass(frozen=True)
class KnownAnswer:
    """A known answer for a gold check: the item by its external id, with the line it came from."""

    line: int
    external_id: str
    labels: list[str]


def known_answers_parse(text: str) -> list[KnownAnswer]:
    """Reads CSV text with the columns external_id and label (several labels separated by |)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = {"external_id", "label"} - set(reader.fieldnames or [])
    if missing:
        raise ValidationError(ERROR_GOLD_COLUMNS.format(missing=", ".join(sorted(missing))), code="gold")
    answers = []
    for row in reader:
        external_id, label = (row.get("external_id") or "").strip(), (row.get("label") or "").strip()
        if not external_id or not label:
            message = "external_id and label may not be empty."
            raise ValidationError(ERROR_GOLD_ROW.format(line=reader.line_num, message=message), code="gold")
        labels = [key.strip() for key in label.split("|") if key.strip()]
        answers.append(KnownAnswer(line=reader.line_num, external_id=external_id, labels=labels))
    if not answers:
        raise ValidationError(ERROR_GOLD_EMPTY, code="gold")
    return answers


def gold_checks_set(
    *, project: Project, answers: list[KnownAnswer], by: User | None, is_check: bool = True
) -> int:
    """Stores known answers (gold labels of source "known") for items, all or nothing: one bad line (an
    unknown item or label, a repeated id) stores none and names the line. Returns how many were stored."""
    seen: set[str] = set()
    for answer in answers:
        if answer.external_id in seen:
            message = ERROR_GOLD_DUPLICATE.format(external_id=answer.external_id)
            raise ValidationError(ERROR_GOLD_ROW.format(line=answer.line, message=message), code="gold")
        seen.add(answer.external_id)
    items = dict(Item.objects.filter(project=project, external_id__in=seen).values_list("external_id", "id"))
    keyed = []
    for answer in answers:
        if answer.external_id not in items:
            message = ERROR_GOLD_UNKNOWN_ITEM.format(external_id=answer.external_id)
            raise ValidationError(ERROR_GOLD_ROW.format(line=answer.line, message=message), code="gold")
        try:
            keys = annotation_labels_validate(project=project, labels=answer.labels)
        except ValidationError as exc:
            raise ValidationError(
                ERROR_GOLD_ROW.format(line=answer.line, message=exc.messages[0]), code="gold"
            ) from exc
        keyed.append((items[answer.external_id], keys))
    with transaction.atomic():
        for item_id, keys in keyed:
            GoldLabel.objects.update_or_create(
                item_id=item_id,
                defaults={"project": project, "labels": keys, "source": GoldSource.KNOWN, "is_check": is_check,
                          "decided_by": by, "note": "", "based_on": []},
            )  # fmt: skip
        ReviewRequest.objects.filter(
            item_id__in=[item_id for item_id, _ in keyed], status=ReviewRequest.Status.OPEN
        ).update(status=ReviewRequest.Status.RESOLVED, resolved_by=by, resolved_at=timezone.now())
    return len(keyed)
