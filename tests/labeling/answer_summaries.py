"""What the answer-summary tests on SQLite (tests/labeling, tests/imports) and on PostgreSQL
(tests/integration) share: the scenarios of answers submitted, changed and taken back through the services
with the summary each must leave, and a summary recomputed in Python from the answers, by the rule."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db.migrations.executor import MigrationExecutor

from labeling.models import Annotation, ItemAnswerSummary
from labeling.services.annotations import RationaleSpec, annotation_submit, annotation_undo_last
from projects.choices import ProjectKind
from projects.models import Item, Project
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

# (answers, distinct answers, labels), or None: the item has no summary.
Summary = tuple[int, int, list[str]] | None

TEXT = "Ada Lovelace met Babbage"
ADA = {"start": 0, "end": 3, "label": "per", "text": "Ada"}
ADA_LOVELACE = {"start": 0, "end": 12, "label": "per", "text": "Ada Lovelace"}
BABBAGE = {"start": 17, "end": 24, "label": "per", "text": "Babbage"}


@dataclass(frozen=True)
class Step:
    """One analyst's action on the item: an answer (labels, or spans in a span project), or an undo."""

    who: str
    labels: tuple[str, ...] = ()
    spans: tuple[dict[str, Any], ...] | None = None
    undo: bool = False
    rationale: bool = False  # an answer with a rationale takes the step-by-step path on PostgreSQL too


def answer(who: str, *labels: str, rationale: bool = False) -> Step:
    return Step(who=who, labels=labels, rationale=rationale)


def spans(who: str, *given: dict[str, Any]) -> Step:
    return Step(who=who, spans=given)


def undo(who: str) -> Step:
    return Step(who=who, undo=True)


# (id, project kind, steps, the summary they leave)
SCENARIOS: list[tuple[str, str, list[Step], Summary]] = [
    ("one-answer", ProjectKind.SINGLE, [answer("ann", "ham")], (1, 1, ["ham"])),
    ("agreement", ProjectKind.SINGLE, [answer("ann", "ham"), answer("bob", "ham")], (2, 1, ["ham"])),
    ("disagreement", ProjectKind.SINGLE, [answer("ann", "spam"), answer("bob", "ham"), answer("cy", "spam")],
     (3, 2, ["ham", "spam"])),
    ("changed-back-to-agreement", ProjectKind.SINGLE,
     [answer("ann", "ham"), answer("bob", "spam"), answer("bob", "ham")], (2, 1, ["ham"])),
    ("changed-into-disagreement", ProjectKind.SINGLE,
     [answer("ann", "ham"), answer("bob", "ham"), answer("bob", "spam")], (2, 2, ["ham", "spam"])),
    ("undo-back-to-agreement", ProjectKind.SINGLE,
     [answer("ann", "ham"), answer("cy", "ham"), answer("bob", "spam"), undo("bob")], (2, 1, ["ham"])),
    ("undo-to-no-answer", ProjectKind.SINGLE, [answer("ann", "ham"), undo("ann")], None),
    ("undo-then-answer-again", ProjectKind.SINGLE, [answer("ann", "ham"), undo("ann"), answer("ann", "spam")],
     (1, 1, ["spam"])),
    ("with-a-rationale", ProjectKind.SINGLE, [answer("ann", "ham"), answer("bob", "spam", rationale=True)],
     (2, 2, ["ham", "spam"])),
    ("multi-label-union", ProjectKind.MULTI, [answer("ann", "c", "a"), answer("bob", "c")],
     (2, 2, ["a", "c"])),
    ("multi-label-same-set", ProjectKind.MULTI, [answer("ann", "c", "a"), answer("bob", "a", "c")],
     (2, 1, ["a", "c"])),
    ("spans-same-type-other-offsets", ProjectKind.SPANS, [spans("ann", ADA), spans("bob", ADA_LOVELACE)],
     (2, 2, ["per"])),
    ("spans-same", ProjectKind.SPANS, [spans("ann", ADA, BABBAGE), spans("bob", ADA, BABBAGE)],
     (2, 1, ["per"])),
    ("spans-no-entities", ProjectKind.SPANS, [spans("ann"), spans("bob")], (2, 1, [])),
    ("spans-changed-back-to-agreement", ProjectKind.SPANS,
     [spans("ann", ADA), spans("bob", ADA_LOVELACE), spans("bob", ADA)], (2, 1, ["per"])),
]  # fmt: skip

KIND_LABELS = {ProjectKind.SINGLE: ["ham", "spam"], ProjectKind.MULTI: ["a", "b", "c"],
               ProjectKind.SPANS: ["per", "loc"]}  # fmt: skip


def scenario_item(kind: str) -> Item:
    """An item of a new project of this kind, wanting three answers."""
    project = ProjectFactory(
        kind=kind, multi_label=kind == ProjectKind.MULTI, labels=KIND_LABELS[kind], overlap=3
    )
    item: Item = ItemFactory(project=project, text=TEXT)
    return item


def play(item: Item, steps: list[Step]) -> None:
    """The steps through the services, in order (each analyst created on first use)."""
    project = item.project
    people: dict[str, User] = {}
    for step in steps:
        user = people.setdefault(step.who, UserFactory(username=f"{step.who}-{uuid.uuid4().hex[:6]}"))
        if step.undo:
            annotation_undo_last(project=project, user=user)
            continue
        rationales = (
            [RationaleSpec(start=0, end=3, quote="Ada", label=step.labels[0])] if step.rationale else []
        )
        annotation_submit(
            project=project, user=user, item_id=item.pk, labels=list(step.labels), client_uuid=uuid.uuid4(),
            spans=list(step.spans) if step.spans is not None else None, rationales=rationales,
        )  # fmt: skip


def summary_of(item: Item) -> Summary:
    """The item's stored summary."""
    row = ItemAnswerSummary.objects.filter(item=item).first()
    if row is None:
        return None
    assert row.project_id == item.project_id
    return (row.answers, row.distinct_answers, list(row.labels))


def summary_recomputed(item: Item) -> Summary:
    """The summary the item's answers call for, by the rule, in Python."""
    answers = list(Annotation.objects.filter(item=item))
    if not answers:
        return None
    is_spans = item.project.is_spans
    distinct = {json.dumps(a.spans if is_spans else a.labels, sort_keys=True) for a in answers}
    labels = sorted({key for a in answers for key in a.labels})
    return (len(answers), len(distinct), labels)


def summaries_of(project: Project) -> dict[str, Summary]:
    """Every stored summary of the project, by the item's external id."""
    return {
        row.item.external_id: (row.answers, row.distinct_answers, list(row.labels))
        for row in ItemAnswerSummary.objects.filter(project=project).select_related("item")
    }


def migration_targets(executor: MigrationExecutor) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The migration state just before the summaries (labeling 0010, every other app at its latest), and the
    latest."""
    after = executor.loader.graph.leaf_nodes()
    before = [("labeling", "0010_schema_history_and_spans") if app == "labeling" else (app, name)
              for app, name in after]  # fmt: skip
    return before, after


def answers_before_the_summaries(apps: Any) -> set[tuple[int, int, int, int, tuple[str, ...]]]:
    """Answers written through the models of the state before the summaries; the summaries they call for."""
    project_model, item_model = apps.get_model("projects", "Project"), apps.get_model("projects", "Item")
    annotation_model = apps.get_model("labeling", "Annotation")
    labels = project_model.objects.create(name="Labels", slug="labels", kind=ProjectKind.SINGLE)
    span = project_model.objects.create(name="Spans", slug="spans", kind=ProjectKind.SPANS)
    items = {
        name: item_model.objects.create(project=project, external_id=name, text="Ada Lovelace", remaining=3)
        for name, project in [("agree", labels), ("differ", labels), ("alone", labels), ("spans", span)]
    }
    answers = [("agree", ["ham"], []), ("agree", ["ham"], []), ("differ", ["spam"], []), ("differ", ["ham"], []),
               ("alone", ["spam"], []), ("spans", ["per"], [ADA]), ("spans", ["per"], [ADA_LOVELACE])]  # fmt: skip
    for name, keys, given in answers:
        item = items[name]
        annotation_model.objects.create(
            project_id=item.project_id, item=item, labels=keys, spans=given, client_uuid=uuid.uuid4()
        )
    return {
        (items["agree"].pk, labels.pk, 2, 1, ("ham",)),
        (items["differ"].pk, labels.pk, 2, 2, ("ham", "spam")),
        (items["alone"].pk, labels.pk, 1, 1, ("spam",)),
        (items["spans"].pk, span.pk, 2, 2, ("per",)),
    }
