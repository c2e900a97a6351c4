"""Reads of the item browser: a project's items in id order, and the conditions its filters and sorts use.

Every condition is a subquery on one table (an item has an answer, a gold label, an open flag, ...) so that
PostgreSQL plans it as a semi- or anti-join, and a million items count within the browser's budget
(bench/item_filters.py). Whether an item's answers differ, and which labels they hold, is read from the items'
answer summaries (labeling.models.ItemAnswerSummary, kept by the writers of answers), not aggregated from
every answer per request. The weak-supervision conditions read the rows of the project's latest succeeded run
(weak_supervision.services.outputs), not its files.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from labeling.models import Annotation, Flag, GoldLabel, ItemAnswerSummary
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
    """A JSON list of label keys (`labels`) holds `key`. PostgreSQL: jsonb's `?`, which matches a list's string
    elements (a third cheaper per row than containment, `@>`). SQLite, which has neither: the key in quotes
    within the list's text (keys are slugs, so the match is exact)."""
    if connection.vendor == "postgresql":
        return Q(labels__has_key=key)
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
    """The item's gold label or any of its answers holds the label: one semi-join on the `UNION` of both sets
    of ids. The answers' side reads the label union of each answered item's summary, one row per item instead
    of one per answer.

    Not an OR of two `IN`s: PostgreSQL has no estimate for such an OR and takes it to keep most items, so
    with another filter beside it, it walked all the items in id order hoping to fill the count early. The
    `UNION`'s size is estimated from its parts, which lets the planner start from the few labelled items
    (bench/item_filters.py: split + label + confidence on a million items, about a third of the time)."""
    golds = GoldLabel.objects.filter(project=project).filter(labels_have(label)).order_by().values("item_id")
    answers = (
        ItemAnswerSummary.objects.filter(project=project)
        .filter(labels_have(label))
        .order_by()
        .values("item_id")
    )
    return Q(pk__in=golds.union(answers))


def disagreeing_ids(*, project: Project) -> QuerySet[Any]:
    """The ids of the items whose answers differ (more than one different answer; in a span project the
    answers are their spans): read from the summaries' `answer_summary_disagreeing` index."""
    return ItemAnswerSummary.objects.filter(project=project, distinct_answers__gt=1).values("item_id")


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
    no confidence to sort by. The summaries' own project condition lets it walk their
    `answer_summary_disagreeing` index (project, distinct answers descending, item) in order and stop at the
    page's end."""
    return items.filter(answer_summary__project=project, answer_summary__distinct_answers__gt=1).order_by(
        F("answer_summary__distinct_answers").desc(), F("answer_summary__item").asc()
    )
