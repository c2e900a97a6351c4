"""Reads of the item browser: a project's items in id order, and the conditions its filters and sorts use.

Every condition is a subquery on one table (an item has an answer, a gold label, an open flag, ...) so that
PostgreSQL plans it as a semi- or anti-join, and a million items count within the browser's budget
(bench/item_filters.py). The weak-supervision conditions read the rows of the project's latest succeeded run
(weak_supervision.services.outputs), not its files.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Cast, Coalesce

from labeling.models import Annotation, Flag, GoldLabel
from oversight.models import ReviewRequest
from projects.models import Item, Project
from weak_supervision.models import ItemLfVote, ItemWeakLabel

GOLD_ANY = "any"
GOLD_NONE = "none"
GOLD_CHECK = "check"
LF_ABSTAIN = "abstain"


def _answer_count() -> Subquery:
    """Everyone's answers of the outer item: a subquery, computed for the rows of one page only."""
    counted = (
        Annotation.objects.filter(item_id=OuterRef("pk")).order_by().values("item_id").annotate(n=Count("*"))
    )
    return Subquery(counted.values("n"), output_field=IntegerField())


def item_browser_list(*, project: Project) -> QuerySet[Item]:
    """The project's items in id order, each with its count of answers (`annotation_count`)."""
    return (
        Item.objects.filter(project=project)
        .annotate(annotation_count=Coalesce(_answer_count(), Value(0)))
        .order_by("id")
    )


def labels_have(key: str) -> Q:
    """A JSON list of label keys (`labels`) holds `key`. PostgreSQL: jsonb containment. SQLite, which has no
    JSON containment: the key in quotes within the list's text (keys are slugs, so the match is exact)."""
    if connection.vendor == "postgresql":
        return Q(labels__contains=[key])
    return Q(labels__icontains=f'"{key}"')


def answered(*, annotator_id: int | None = None, label: str = "") -> Exists:
    """The item has an answer (by this annotator, with this label, where given)."""
    answers = Annotation.objects.filter(item_id=OuterRef("pk"))
    if annotator_id is not None:
        answers = answers.filter(annotator_id=annotator_id)
    if label:
        answers = answers.filter(labels_have(label))
    return Exists(answers)


def labelled_as(label: str, *, project: Project) -> Q:
    """The item's gold label or any of its answers holds the label: two sets of ids, each computed once and
    hashed (an OR of two correlated subqueries would run them for each of a million items)."""
    golds = GoldLabel.objects.filter(project=project).filter(labels_have(label)).values("item_id")
    answers = Annotation.objects.filter(project=project).filter(labels_have(label)).values("item_id")
    return Q(pk__in=golds) | Q(pk__in=answers)


def disagreeing_ids(*, project: Project) -> QuerySet[Any]:
    """The ids of the items whose answers differ: their smallest and largest label lists differ (keys are
    stored in schema order, so equal sets are equal lists). Min and max group in one hash table where a
    count of distinct lists sorts each item's (250,000 answers: measured in bench/item_filters.py). In a span
    project the answers are their spans (stored in text order, so equal answers are equal lists)."""
    as_text = Cast(_answer_field(project), TextField())
    return (
        Annotation.objects.filter(project=project)
        .order_by()
        .values("item_id")
        .annotate(lowest=Min(as_text), highest=Max(as_text))
        .exclude(lowest=F("highest"))
        .values("item_id")
    )


def _answer_field(project: Project) -> str:
    return "spans" if project.is_spans else "labels"


def distinct_answers(*, project: Project) -> Subquery:
    """How many different answers the outer item got (a subquery: for the few items that disagree)."""
    distinct = (
        Annotation.objects.filter(item_id=OuterRef("pk"))
        .order_by()
        .values("item_id")
        .annotate(n=Count(_answer_field(project), distinct=True))
        .values("n")
    )
    return Subquery(distinct, output_field=IntegerField())


def gold_state(state: str) -> Q:
    """Items with no gold label ("none"), any ("any"), a gold check ("check") or one of a GoldSource."""
    golds = GoldLabel.objects.filter(item_id=OuterRef("pk"))
    if state == GOLD_NONE:
        return ~Q(Exists(golds))
    if state == GOLD_CHECK:
        golds = golds.filter(is_check=True)
    elif state != GOLD_ANY:
        golds = golds.filter(source=state)
    return Q(Exists(golds))


def flagged() -> Exists:
    """The item has an open (unresolved) flag."""
    return Exists(Flag.objects.filter(item_id=OuterRef("pk"), resolved_at__isnull=True))


def in_review() -> Exists:
    """The item has an open review request."""
    return Exists(ReviewRequest.objects.filter(item_id=OuterRef("pk"), status=ReviewRequest.Status.OPEN))


def lf_voted(*, lf_id: int, vote: str = "") -> Q:
    """The LF voted on the item in the latest run (for `vote`, where given), or with `vote` "abstain": the
    item is in the latest run and the LF did not vote on it."""
    votes = ItemLfVote.objects.filter(item_id=OuterRef("pk"), labeling_function_id=lf_id)
    if vote == LF_ABSTAIN:
        return Q(Exists(ItemWeakLabel.objects.filter(item_id=OuterRef("pk")))) & ~Q(Exists(votes))
    if vote:
        votes = votes.filter(label=vote)
    return Q(Exists(votes))


def by_confidence(items: QuerySet[Item], *, project: Project, descending: bool) -> QuerySet[Item]:
    """The items the latest run labeled, by the label model's confidence (then id): the browser's
    confidence sort. The weak labels' own project condition lets it walk their (project, confidence, item)
    index in order and stop at the page's end, instead of sorting a million rows."""
    confidence = F("weak_label__confidence")
    order = confidence.desc() if descending else confidence.asc()
    return items.filter(weak_label__project=project).order_by(
        order, F("weak_label__item").desc() if descending else F("weak_label__item").asc()
    )


def by_disagreement(items: QuerySet[Item], *, project: Project) -> QuerySet[Item]:
    """The items whose answers differ, the most different answers first (then in id order): the browser's
    disagreement sort. Items whose answers agree have nothing to rank by, as items without a weak label have
    no confidence to sort by."""
    disagreeing = items.filter(pk__in=disagreeing_ids(project=project))
    return disagreeing.alias(disagreement=distinct_answers(project=project)).order_by(
        F("disagreement").desc(), "id"
    )
