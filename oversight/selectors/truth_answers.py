"""Every answer a project's sources gave, read for truth inference (oversight.services.truth) as flat arrays.

Sources, and what counts as an answer:
- **annotators** (people, and annotators named in an import): their annotations;
- **labeling functions** and **external predictions** (LFs of kind external): their non-abstaining votes in the
  latest succeeded run (weak_supervision.ItemLfVote); their silence on the other items counts too
  (`silent`: an LF looks at every item);
- **the end model**: its label for each item (ItemEndModelLabel), from the latest run whose end model finished;
- **the active learner**: its stored suggestion (Item.suggested_label), only on items with no annotation and no
  gold label, since it was trained on those (an in-sample answer would look right by construction).
Gold that is held fixed: GoldLabel rows (adjudicated or known answers) outside the test split; the test
split's labels and evaluation-only labels only score, and annotators merely agreeing is evidence, not gold.

Everything is read with one raw statement per source kind (a million items with three answers each plus ten
LFs are about 8 million rows: ORM objects would cost minutes).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection

from labeling.models import Annotation, GoldLabel
from oversight.choices import SourceKind
from projects.choices import Split
from projects.models import Item, Project
from projects.selectors import project_labels
from weak_supervision.choices import LabelingFunctionKind
from weak_supervision.models import ItemEndModelLabel, ItemLfVote, LabelingFunction

FETCH = 50_000  # rows per fetch: a few MB of tuples at a time

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Source:
    key: str
    kind: str
    name: str
    user_id: int | None = None
    lf_id: int | None = None
    silent: bool = False


@dataclass
class ProjectAnswers:
    """The project's items (sorted ids), classes, sources and answers (one row each: item id, source index,
    the answered label set as a tuple of class indices), and the usable gold (item id to class indices)."""

    item_ids: Ints
    keys: list[str]
    multi_label: bool
    sources: list[Source] = field(default_factory=list)
    item: list[int] = field(default_factory=list)
    source: list[int] = field(default_factory=list)
    answer: list[tuple[int, ...]] = field(default_factory=list)
    gold: dict[int, tuple[int, ...]] = field(default_factory=dict)
    watermark: int = 0

    def source_index(self, source: Source, index: dict[str, int]) -> int:
        found = index.get(source.key)
        if found is None:
            found = index[source.key] = len(self.sources)
            self.sources.append(source)
        return found


def _rows(sql: str, params: list[Any]) -> Iterator[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(FETCH):
            yield from batch


def _table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def _labels(value: Any) -> list[str]:
    if isinstance(value, str):
        decoded = json.loads(value)
        return [str(v) for v in decoded] if isinstance(decoded, list) else []
    return [str(v) for v in value] if isinstance(value, list) else []


def _classes(labels: list[str], index: dict[str, int]) -> tuple[int, ...]:
    return tuple(sorted({index[label] for label in labels if label in index}))


def project_answers_get(*, project: Project) -> ProjectAnswers:
    """Every source's answers on the project's items, and the gold held fixed."""
    keys = [label.key for label in project_labels(project=project)]
    class_index = {key: i for i, key in enumerate(keys)}
    item_ids = np.fromiter(
        (
            row[0]
            for row in _rows(f"SELECT id FROM {_table(Item)} WHERE project_id = %s ORDER BY id", [project.pk])
        ),
        dtype=np.int64,
    )
    found = ProjectAnswers(item_ids=item_ids, keys=keys, multi_label=project.multi_label)
    if not len(item_ids):
        return found
    sources: dict[str, int] = {}
    annotated = _annotations(found, project, class_index, sources)
    _gold(found, project, class_index)
    _lf_votes(found, project, class_index, sources)
    _end_model(found, project, class_index, sources)
    _learner(found, project, class_index, sources, annotated)
    return found


def _annotations(
    found: ProjectAnswers, project: Project, class_index: dict[str, int], sources: dict[str, int]
) -> set[int]:
    users = dict(
        Annotation.objects.filter(project=project, annotator__isnull=False)
        .values_list("annotator_id", "annotator__username")
        .distinct()
    )
    sql = (
        f"SELECT id, item_id, annotator_id, external_annotator, labels FROM {_table(Annotation)} "
        "WHERE project_id = %s"
    )
    annotated: set[int] = set()
    decoded: dict[Any, tuple[int, ...]] = {}
    for annotation_id, item_id, user_id, external, raw in _rows(sql, [project.pk]):
        found.watermark = max(found.watermark, int(annotation_id))
        cache_key = raw if isinstance(raw, str) else json.dumps(raw)
        classes = decoded.get(cache_key)
        if classes is None:
            classes = decoded[cache_key] = _classes(_labels(raw), class_index)
        if not classes and not found.multi_label:
            continue
        if user_id is not None:
            source = Source(
                f"annotator:{user_id}", SourceKind.ANNOTATOR, users.get(user_id, str(user_id)), user_id
            )
        else:
            name = external or "imported"
            source = Source(f"annotator:import:{name}", SourceKind.ANNOTATOR, name)
        row = item_id
        annotated.add(row)
        found.item.append(row)
        found.source.append(found.source_index(source, sources))
        found.answer.append(classes)
    return annotated


def _gold(found: ProjectAnswers, project: Project, class_index: dict[str, int]) -> None:
    tests = set(
        Item.objects.filter(project=project, split=Split.TEST, gold__isnull=False).values_list(
            "pk", flat=True
        )
    )
    for item_id, labels in GoldLabel.objects.filter(project=project).values_list("item_id", "labels"):
        if item_id in tests:
            continue
        classes = _classes(_labels(labels), class_index)
        if found.multi_label or len(classes) == 1:
            found.gold[item_id] = classes


def _lf_votes(
    found: ProjectAnswers, project: Project, class_index: dict[str, int], sources: dict[str, int]
) -> None:
    functions = {
        lf_id: (name, kind)
        for lf_id, name, kind in LabelingFunction.objects.filter(project=project).values_list(
            "pk", "name", "kind"
        )
    }
    if not functions:
        return
    sql = (
        f"SELECT v.item_id, v.labeling_function_id, v.label FROM {_table(ItemLfVote)} v "
        f"JOIN {_table(LabelingFunction)} f ON f.id = v.labeling_function_id WHERE f.project_id = %s"
    )
    for item_id, lf_id, label in _rows(sql, [project.pk]):
        if label not in class_index or lf_id not in functions:
            continue
        name, kind = functions[lf_id]
        source_kind = (
            SourceKind.EXTERNAL if kind == LabelingFunctionKind.EXTERNAL else SourceKind.LABELING_FUNCTION
        )
        source = Source(f"lf:{lf_id}", source_kind, name, lf_id=lf_id, silent=True)
        found.item.append(item_id)
        found.source.append(found.source_index(source, sources))
        found.answer.append((class_index[label],))


def _end_model(
    found: ProjectAnswers, project: Project, class_index: dict[str, int], sources: dict[str, int]
) -> None:
    if found.multi_label:
        return  # one label per item: not a multi-label answer
    sql = f"SELECT item_id, label FROM {_table(ItemEndModelLabel)} WHERE project_id = %s"
    source = Source("end_model", SourceKind.END_MODEL, "End model")
    for item_id, label in _rows(sql, [project.pk]):
        if label in class_index:
            found.item.append(item_id)
            found.source.append(found.source_index(source, sources))
            found.answer.append((class_index[label],))


def _learner(
    found: ProjectAnswers, project: Project, class_index: dict[str, int], sources: dict[str, int],
    annotated: set[int],
) -> None:  # fmt: skip
    if found.multi_label:
        return
    sql = f"SELECT id, suggested_label FROM {_table(Item)} WHERE project_id = %s AND suggested_label <> ''"
    source = Source("learner", SourceKind.LEARNER, "Active learner")
    for item_id, label in _rows(sql, [project.pk]):
        row = item_id
        if label in class_index and row not in annotated and row not in found.gold:
            found.item.append(row)
            found.source.append(found.source_index(source, sources))
            found.answer.append((class_index[label],))
