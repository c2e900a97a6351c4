"""Reads for review and adjudication: what a reviewer sees for an item, the queue, and analysts' feedback."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, QuerySet

from labeling.choices import GoldSource
from labeling.models import Annotation, Flag, GoldLabel, Rationale
from oversight.choices import ReviewReason
from oversight.models import ReviewRequest
from oversight.span_answers import spans_answer
from projects.models import Item, Project
from projects.selectors import AnyUser
from weak_supervision.selectors import LfVote, item_lf_votes_get, latest_run, weak_labels_get

REASON_NAMES = dict(ReviewReason.choices)


@dataclass(frozen=True)
class AnnotationView:
    annotation_id: int
    annotator: str
    labels: list[str]
    source: str
    lead_time_ms: int | None
    created_at: datetime
    rationales: list[dict[str, Any]] = field(default_factory=list)
    spans: list[dict[str, Any]] = field(default_factory=list)  # span projects: the spans marked


@dataclass(frozen=True)
class ReviewContext:
    """Everything a reviewer weighs for one item."""

    item: Item
    reasons: list[str]
    reason_names: list[str]
    detail: dict[str, Any]
    annotations: list[AnnotationView]
    flags: list[dict[str, Any]]
    suggested: list[str]  # the labels most annotators gave (the reviewer's starting point)
    gold: GoldLabel | None
    weak_label: dict[str, Any] | None
    lf_votes: list[LfVote]
    run_number: int | None
    # Span projects: the spans the decision starts from (the gold's, else those most annotators marked).
    is_spans: bool = False
    suggested_spans: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = self._item_json()
        if self.is_spans:
            data["kind"] = "spans"
            data["suggested_spans"] = self.suggested_spans
            for row, annotation in zip(data["annotations"], self.annotations, strict=True):
                row["spans"] = annotation.spans
            if data["gold"] is not None and self.gold is not None:
                data["gold"]["spans"] = self.gold.spans
        return data

    def _item_json(self) -> dict[str, Any]:
        return {
            "item": {"id": self.item.pk, "external_id": self.item.external_id, "text": self.item.text,
                     "metadata": self.item.metadata, "split": self.item.split},
            "reasons": self.reasons,
            "detail": self.detail,
            "annotations": [
                {"annotation_id": a.annotation_id, "annotator": a.annotator, "labels": a.labels,
                 "source": a.source, "lead_time_ms": a.lead_time_ms, "created_at": a.created_at.isoformat(),
                 "rationales": a.rationales}
                for a in self.annotations
            ],
            "flags": self.flags,
            "suggested": self.suggested,
            "gold": _gold_json(self.gold) if self.gold else None,
            "weak_label": self.weak_label,
            "lf_votes": [{"name": v.name, "kind": v.kind, "vote": v.vote} for v in self.lf_votes],
            "run": self.run_number,
        }  # fmt: skip


def _gold_json(gold: GoldLabel) -> dict[str, Any]:
    return {
        "labels": gold.labels,
        "source": gold.source,
        "is_check": gold.is_check,
        "decided_by": gold.decided_by.get_username() if gold.decided_by else None,
        "decided_at": gold.updated_at.isoformat(),
        "note": gold.note,
        "based_on": gold.based_on,
    }


def _annotations(item: Item, *, spans: bool = False) -> list[AnnotationView]:
    rationales: dict[int, list[dict[str, Any]]] = {}
    for annotation_id, start, end, quote, label in Rationale.objects.filter(item=item).values_list(
        "annotation_id", "start", "end", "quote", "label"
    ):
        rationales.setdefault(annotation_id, []).append(
            {"start": start, "end": end, "quote": quote, "label": label}
        )
    return [
        AnnotationView(
            annotation_id=annotation.pk,
            annotator=annotation.annotator.get_username()
            if annotation.annotator
            else annotation.external_annotator or "import",
            labels=list(annotation.labels),
            source=annotation.source,
            lead_time_ms=annotation.lead_time_ms,
            created_at=annotation.created_at,
            rationales=rationales.get(annotation.pk, []),
            spans=list(annotation.spans or []) if spans else [],
        )
        for annotation in Annotation.objects.filter(item=item)
        .select_related("annotator")
        .order_by("created_at")
    ]


def review_context_get(
    *, project: Project, item: Item, request: ReviewRequest | None = None
) -> ReviewContext:
    annotations = _annotations(item, spans=project.is_spans)
    counts = Counter(tuple(a.labels) for a in annotations)
    suggested = list(counts.most_common(1)[0][0]) if counts else []
    gold = GoldLabel.objects.select_related("decided_by").filter(item=item).first()
    run = latest_run(project=project)
    weak = weak_labels_get(run=run, item_ids=[item.pk]).get(item.pk) if run else None
    reasons = list(request.reasons) if request else []
    flags = [
        {
            "user": username or "",
            "comment": comment,
            "created_at": created.isoformat(),
            "open": resolved is None,
        }
        for username, comment, created, resolved in Flag.objects.filter(item=item)
        .order_by("created_at")
        .values_list("user__username", "comment", "created_at", "resolved_at")
    ]
    return ReviewContext(
        item=item,
        reasons=reasons,
        reason_names=[REASON_NAMES.get(reason, reason) for reason in reasons],
        detail=dict(request.detail) if request else {},
        annotations=annotations,
        flags=flags,
        suggested=list(gold.labels) if gold else suggested,
        gold=gold,
        weak_label=(
            {
                "label": weak.label,
                "labels": weak.labels,
                "confidence": weak.confidence,
                "probabilities": weak.probabilities,
            }
            if weak is not None
            else None
        ),
        lf_votes=item_lf_votes_get(run=run, item_id=item.pk) if run else [],
        run_number=run.number if run else None,
        is_spans=project.is_spans,
        suggested_spans=list(gold.spans) if gold else _majority_spans(annotations),
    )


def _majority_spans(annotations: list[AnnotationView]) -> list[dict[str, Any]]:
    """The spans most annotators marked, as one answer (the earliest of the most common answers)."""
    counts = Counter(spans_answer(a.spans) for a in annotations)
    if not counts:
        return []
    top = counts.most_common(1)[0][0]
    return next(list(a.spans) for a in annotations if spans_answer(a.spans) == top)


def review_request_list(
    *, project: Project, status: str | None = ReviewRequest.Status.OPEN
) -> QuerySet[ReviewRequest]:
    """The project's requests in the status asked for (None: every status), most urgent first."""
    requests = ReviewRequest.objects.filter(project=project)
    if status is not None:
        requests = requests.filter(status=status)
    return requests.select_related("item", "claimed_by", "resolved_by").order_by("-priority", "id")


def review_queue_counts(*, project: Project) -> dict[str, int]:
    """Open requests per reason (an item with two reasons counts under both) and in all."""
    counts: Counter[str] = Counter()
    total = 0
    for reasons in ReviewRequest.objects.filter(
        project=project, status=ReviewRequest.Status.OPEN
    ).values_list("reasons", flat=True):
        total += 1
        counts.update(reasons)
    resolved = ReviewRequest.objects.filter(project=project, status=ReviewRequest.Status.RESOLVED).count()
    return {"open": total, "resolved": resolved, **{reason: counts[reason] for reason in ReviewReason.values}}


@dataclass(frozen=True)
class Feedback:
    """A reviewer's decision on an item an analyst labeled, as that analyst sees it."""

    item_id: int
    external_id: str
    text: str
    your_labels: list[str]
    final_labels: list[str]
    agreed: bool
    note: str
    reviewer: str
    decided_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "decided_at": self.decided_at.isoformat()}


def review_feedback_list(*, project: Project, user: AnyUser, limit: int = 200) -> list[Feedback]:
    """This analyst's reviewed items, latest decision first: their answer, the final one, the note. In span
    projects they agreed when they marked the very spans of the decision (the labels shown are the types)."""
    answers = Annotation.objects.filter(project=project, annotator_id=int(user.pk or 0))
    mine = dict(answers.values_list("item_id", "labels"))
    spans = dict(answers.values_list("item_id", "spans")) if project.is_spans else {}
    golds = (
        GoldLabel.objects.filter(project=project, source=GoldSource.ADJUDICATED, item_id__in=list(mine))
        .select_related("item", "decided_by")
        .order_by("-updated_at")[:limit]
    )
    return [
        Feedback(
            item_id=gold.item_id,
            external_id=gold.item.external_id,
            text=gold.item.text[:300],
            your_labels=mine[gold.item_id],
            final_labels=gold.labels,
            agreed=spans_answer(spans[gold.item_id]) == spans_answer(gold.spans)
            if project.is_spans
            else frozenset(mine[gold.item_id]) == frozenset(gold.labels),
            note=gold.note,
            reviewer=gold.decided_by.get_username() if gold.decided_by else "",
            decided_at=gold.updated_at,
        )
        for gold in golds
    ]


def gold_label_list(*, project: Project) -> QuerySet[GoldLabel]:
    return (
        GoldLabel.objects.filter(project=project)
        .select_related("item", "decided_by")
        .annotate(n_annotations=Count("item__annotations"))
        .order_by("-updated_at")
    )
