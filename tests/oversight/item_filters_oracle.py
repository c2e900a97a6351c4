"""The item browser's answer filters as they were before the answer summaries (aggregated from every answer
on each request), kept as the oracle that the summaries' filters must match, on a small mixed project whose
answers went through the services (submit, change, undo). Read by tests/oversight/selectors/test_items.py
(SQLite) and tests/integration/test_answer_summaries.py (PostgreSQL)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Count, F, IntegerField, Max, Min, OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.functions import Cast

from core.pagination import CappedPaginator
from labeling.models import Annotation, GoldLabel
from labeling.services.annotations import annotation_submit, annotation_undo_last
from oversight.filtersets import ItemFilterSet
from oversight.selectors.items import item_browser_list, labels_have
from projects.access import ProjectAccess
from projects.choices import ProjectKind, Role, Split
from projects.models import Item, Project
from tests.labeling.answer_summaries import ADA, ADA_LOVELACE, BABBAGE, TEXT
from tests.labeling.factories import GoldLabelFactory
from tests.projects.factories import ItemFactory, MembershipFactory, ProjectFactory

LABELS = {ProjectKind.SINGLE: ["ham", "spam", "junk"], ProjectKind.SPANS: ["per", "loc"]}
# Per item: (split, its answers in order: (analyst, labels or spans; None: the analyst's undo), gold label).
# An analyst who answers an item again changes their answer.
MIXED: dict[str, list[tuple[str, list[tuple[int, Any]], str]]] = {
    ProjectKind.SINGLE: [
        (Split.TRAIN, [], ""),
        (Split.TRAIN, [(0, ["ham"])], ""),
        (Split.TEST, [(0, ["spam"]), (1, ["spam"])], ""),
        (Split.TRAIN, [(0, ["ham"]), (1, ["spam"])], ""),
        (Split.TRAIN, [(0, ["ham"]), (1, ["spam"]), (2, ["junk"])], ""),
        (Split.TEST, [(0, ["spam"]), (1, ["spam"]), (2, ["ham"])], "ham"),
        (Split.TRAIN, [], "spam"),
        (Split.TRAIN, [(0, ["junk"]), (1, ["junk"])], "ham"),
        (Split.TRAIN, [(0, ["ham"]), (1, ["spam"]), (1, None)], ""),  # undone back to one answer
        (Split.TEST, [(0, ["ham"]), (0, None)], ""),  # undone to no answer
        (Split.TRAIN, [(0, ["ham"]), (1, ["spam"]), (0, ["spam"])], ""),  # changed to agree
        (Split.TRAIN, [(0, ["spam"]), (1, ["ham"]), (2, ["junk"]), (3, ["ham"]), (4, ["spam"])], ""),
    ],
    ProjectKind.SPANS: [
        (Split.TRAIN, [(0, [ADA]), (1, [ADA])], ""),
        (Split.TRAIN, [(0, [ADA]), (1, [ADA_LOVELACE])], ""),
        (Split.TRAIN, [(0, [ADA, BABBAGE]), (1, [ADA]), (2, [ADA_LOVELACE])], ""),
        (Split.TRAIN, [(0, []), (1, [])], ""),
        (Split.TEST, [(0, []), (1, [BABBAGE])], ""),
        (Split.TRAIN, [(0, [BABBAGE]), (0, None)], ""),
        (Split.TRAIN, [(0, [ADA]), (1, [BABBAGE]), (1, [ADA])], ""),
        (Split.TRAIN, [], ""),
    ],
}


def queries(kind: str) -> list[dict[str, str]]:
    """The filters and sorts that read answers, alone and with others."""
    first, second = LABELS[kind][:2]
    return [
        {"disagreement": "true"}, {"disagreement": "false"}, {"ordering": "-disagreement"},
        *({"label": key} for key in LABELS[kind]),
        {"split": "train", "label": second}, {"label": first, "disagreement": "true"},
        {"split": "test", "label": first, "labeled": "true"},
        {"split": "test", "disagreement": "false"}, {"split": "train", "ordering": "-disagreement"},
        {"labeled": "true"}, {"labeled": "false"}, {"labeled": "true", "disagreement": "false"},
    ]  # fmt: skip


def mixed_project(kind: str) -> tuple[ProjectAccess, list[User]]:
    """A project of this kind whose items got the answers of MIXED through the services; the owner's access
    and the analysts."""
    project = ProjectFactory(kind=kind, labels=LABELS[kind], overlap=5)
    owner = MembershipFactory(project=project, role=Role.OWNER).user
    analysts = [MembershipFactory(project=project, role=Role.ANALYST).user for _ in range(5)]
    for index, (split, answers, gold) in enumerate(MIXED[kind]):
        item = ItemFactory(project=project, external_id=f"i{index:02d}", text=TEXT, split=split)
        _answer(project, item, analysts, answers)
        if gold:
            GoldLabelFactory(item=item, project=project, labels=[gold], is_check=False)
    return ProjectAccess(project=project, user=owner, role=Role.OWNER), analysts


def _answer(project: Project, item: Item, analysts: list[User], answers: list[tuple[int, Any]]) -> None:
    for who, given in answers:
        user = analysts[who]
        if given is None:
            annotation_undo_last(project=project, user=user)
        elif project.is_spans:
            annotation_submit(project=project, user=user, item_id=item.pk, labels=[], spans=given,
                              client_uuid=uuid.uuid4())  # fmt: skip
        else:
            annotation_submit(
                project=project, user=user, item_id=item.pk, labels=given, client_uuid=uuid.uuid4()
            )


def listed_now(access: ProjectAccess, data: dict[str, str]) -> tuple[list[str], int]:
    """The item browser's page of 50 and its count, as the page and the endpoint run them."""
    filterset = ItemFilterSet(data, queryset=item_browser_list(project=access.project), access=access)
    assert filterset.is_valid(), filterset.errors
    paginator = CappedPaginator(filterset.qs, 50)
    return [item.external_id for item in paginator.page(1)], paginator.count


def listed_before(access: ProjectAccess, data: dict[str, str]) -> tuple[list[str], int]:
    """The same through the filters as they were: every answer aggregated per request."""
    project = access.project
    items: QuerySet[Item] = Item.objects.filter(project=project).order_by("id")
    if data.get("split"):
        items = items.filter(split=data["split"])
    if data.get("labeled"):
        answered = Q(pk__in=Annotation.objects.values("item_id"))
        items = items.filter(answered if data["labeled"] == "true" else ~answered)
    if data.get("label"):
        golds = GoldLabel.objects.filter(project=project).filter(_holds(data["label"])).values("item_id")
        answers = Annotation.objects.filter(project=project).filter(_holds(data["label"])).values("item_id")
        items = items.filter(Q(pk__in=golds) | Q(pk__in=answers))
    if data.get("disagreement"):
        disagreeing = Q(pk__in=_disagreeing_ids(project))
        items = items.filter(disagreeing if data["disagreement"] == "true" else ~disagreeing)
    if data.get("ordering") == "-disagreement":
        items = (
            items.filter(pk__in=_disagreeing_ids(project))
            .alias(disagreement=_distinct_answers(project))
            .order_by(F("disagreement").desc(), "id")
        )
    ids = list(items.values_list("external_id", flat=True))
    return ids[:50], len(ids)


def _holds(key: str) -> Q:
    """The label list holds the key, as the filters read it before (PostgreSQL: containment, not `?`)."""
    if connection.vendor == "postgresql":
        return Q(labels__contains=[key])
    return labels_have(key)


def _answer_field(project: Project) -> str:
    return "spans" if project.is_spans else "labels"


def _disagreeing_ids(project: Project) -> QuerySet[Any]:
    as_text = Cast(_answer_field(project), TextField())
    return (
        Annotation.objects.filter(project=project)
        .order_by()
        .values("item_id")
        .annotate(lowest=Min(as_text), highest=Max(as_text))
        .exclude(lowest=F("highest"))
        .values("item_id")
    )


def _distinct_answers(project: Project) -> Subquery:
    distinct = (
        Annotation.objects.filter(item_id=OuterRef("pk"))
        .order_by()
        .values("item_id")
        .annotate(n=Count(_answer_field(project), distinct=True))
        .values("n")
    )
    return Subquery(distinct, output_field=IntegerField())
