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
from django.contrib.auth.models import User
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
    """The project's items (sorted ids), classes, sources and answers as parallel arrays (item id, source index,
    class index; multi-label: `answer_sets`, the answered label set of each row as class indices), and the
    usable gold (item id to class indices)."""

    item_ids: Ints
    keys: list[str]
    multi_label: bool
    sources: list[Source] = field(default_factory=list)
    item: Ints = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    source: Ints = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    answer: Ints = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    answer_sets: list[tuple[int, ...]] = field(default_factory=list)
    gold: dict[int, tuple[int, ...]] = field(default_factory=dict)
    watermark: int = 0

    def add(
        self, items: Ints, sources: Ints, answers: Ints, sets: list[tuple[int, ...]] | None = None
    ) -> None:
        self.item = np.concatenate([self.item, items])
        self.source = np.concatenate([self.source, sources])
        self.answer = np.concatenate([self.answer, answers])
        if self.multi_label:
            self.answer_sets.extend(sets if sets is not None else [(int(a),) for a in answers])

    def sources_add(self, sources: list[Source]) -> Ints:
        """Appends sources; returns their indices."""
        first = len(self.sources)
        self.sources.extend(sources)
        return np.arange(first, first + len(sources), dtype=np.int64)


def _table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def _columns(sql: str, params: list[Any], width: int) -> npt.NDArray[np.int64]:
    """An all-integer result as a (rows, width) array, fetched in batches."""
    parts = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(FETCH):
            parts.append(np.array(batch, dtype=np.int64).reshape(-1, width))
    return np.concatenate(parts) if parts else np.zeros((0, width), dtype=np.int64)


def _rows(sql: str, params: list[Any]) -> Iterator[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(FETCH):
            yield from batch


def _class_of(column: str, keys: list[str]) -> tuple[str, list[Any]]:
    """SQL for a label key's class index (-1: not one of the project's labels), so that the database sends
    small integers instead of strings."""
    whens = " ".join("WHEN %s THEN %s" for _ in keys)
    params: list[Any] = []
    for index, key in enumerate(keys):
        params += [key, index]
    return f"(CASE {column} {whens} ELSE -1 END)", params


def _first_label() -> tuple[str, str]:
    """The first label of an annotation's labels, and the number of its labels, in this database's SQL."""
    if connection.vendor == "postgresql":
        return "(labels->>0)", "jsonb_array_length(labels)"
    return "json_extract(labels, '$[0]')", "json_array_length(labels)"


def _labels(value: Any) -> list[str]:
    if isinstance(value, str):
        decoded = json.loads(value)
        return [str(v) for v in decoded] if isinstance(decoded, list) else []
    return [str(v) for v in value] if isinstance(value, list) else []


def _classes(labels: list[str], index: dict[str, int]) -> tuple[int, ...]:
    return tuple(sorted({index[label] for label in labels if label in index}))


def project_item_ids(*, project_id: int) -> npt.NDArray[np.int64]:
    """The project's item ids as they are now, in id order."""
    return _columns(f"SELECT id FROM {_table(Item)} WHERE project_id = %s ORDER BY id", [project_id], 1)[:, 0]


def project_answers_get(*, project: Project) -> ProjectAnswers:
    """Every source's answers on the project's items, and the gold held fixed."""
    keys = [label.key for label in project_labels(project=project)]
    item_ids = project_item_ids(project_id=project.pk)
    found = ProjectAnswers(item_ids=item_ids, keys=keys, multi_label=project.multi_label)
    if not len(item_ids):
        return found
    if project.multi_label:
        _annotation_sets(found, project)
    else:
        _annotations(found, project)
    annotated = np.unique(found.item)
    _gold(found, project)
    _lf_votes(found, project)
    if not project.multi_label:
        _end_model(found, project)
        _learner(found, project, annotated)
    return found


def _annotator_sources(project: Project, user_ids: Ints) -> list[Source]:
    names = dict(User.objects.filter(pk__in=[int(u) for u in user_ids]).values_list("pk", "username"))
    return [
        Source(
            f"annotator:{user_id}", SourceKind.ANNOTATOR, names.get(int(user_id), str(user_id)), int(user_id)
        )
        for user_id in user_ids
    ]


def _imported_source(name: str) -> Source:
    return Source(f"annotator:import:{name or 'imported'}", SourceKind.ANNOTATOR, name or "imported")


def _annotations(found: ProjectAnswers, project: Project) -> None:
    label, count = _first_label()
    case, params = _class_of(label, found.keys)
    table = _table(Annotation)
    rows = _columns(
        f"SELECT id, item_id, annotator_id, {case} FROM {table} "
        f"WHERE project_id = %s AND annotator_id IS NOT NULL AND {count} = 1",
        [*params, project.pk], 4,
    )  # fmt: skip
    rows = rows[rows[:, 3] >= 0]
    if len(rows):
        found.watermark = int(rows[:, 0].max())
        users, inverse = np.unique(rows[:, 2], return_inverse=True)
        indices = found.sources_add(_annotator_sources(project, users))
        found.add(rows[:, 1], indices[inverse], rows[:, 3])
    imported: dict[str, list[tuple[int, int]]] = {}
    sql = (
        f"SELECT id, item_id, external_annotator, {case} FROM {table} "
        f"WHERE project_id = %s AND annotator_id IS NULL AND {count} = 1"
    )
    for annotation_id, item_id, name, answer in _rows(sql, [*params, project.pk]):
        found.watermark = max(found.watermark, int(annotation_id))
        if answer >= 0:
            imported.setdefault(name, []).append((item_id, answer))
    if imported:
        names = sorted(imported)
        indices = found.sources_add([_imported_source(name) for name in names])
        for index, name in zip(indices, names, strict=True):
            pairs = np.array(imported[name], dtype=np.int64)
            found.add(pairs[:, 0], np.full(len(pairs), index), pairs[:, 1])


def _annotation_sets(found: ProjectAnswers, project: Project) -> None:
    """Multi-label: every annotation's set of labels (an empty set says no label applies)."""
    class_index = {key: i for i, key in enumerate(found.keys)}
    text = "labels::text" if connection.vendor == "postgresql" else "labels"
    sql = (
        f"SELECT id, item_id, annotator_id, external_annotator, {text} FROM {_table(Annotation)} "
        "WHERE project_id = %s"
    )
    users: dict[int, int] = {}
    names: dict[str, int] = {}
    decoded: dict[str, tuple[int, ...]] = {}
    items: list[int] = []
    sources: list[int] = []
    sets: list[tuple[int, ...]] = []
    pending_users: list[int] = []
    for annotation_id, item_id, user_id, name, raw in _rows(sql, [project.pk]):
        found.watermark = max(found.watermark, int(annotation_id))
        classes = decoded.get(raw)
        if classes is None:
            classes = decoded[raw] = _classes(_labels(raw), class_index)
        if user_id is not None:
            if user_id not in users:
                users[user_id] = len(pending_users)
                pending_users.append(user_id)
            sources.append(-1 - users[user_id])
        else:
            if name not in names:
                names[name] = int(found.sources_add([_imported_source(name)])[0])
            sources.append(names[name])
        items.append(item_id)
        sets.append(classes)
    user_indices = found.sources_add(_annotator_sources(project, np.array(pending_users, dtype=np.int64)))
    source_array = np.array(sources, dtype=np.int64)
    people = source_array < 0
    source_array[people] = user_indices[-1 - source_array[people]]
    found.add(np.array(items, dtype=np.int64), source_array, np.zeros(len(items), dtype=np.int64), sets)


def _gold(found: ProjectAnswers, project: Project) -> None:
    class_index = {key: i for i, key in enumerate(found.keys)}
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


def _lf_votes(found: ProjectAnswers, project: Project) -> None:
    functions = {
        lf_id: (name, kind)
        for lf_id, name, kind in LabelingFunction.objects.filter(project=project).values_list(
            "pk", "name", "kind"
        )
    }
    if not functions:
        return
    case, params = _class_of("v.label", found.keys)
    rows = _columns(
        f"SELECT v.item_id, v.labeling_function_id, {case} FROM {_table(ItemLfVote)} v "
        f"JOIN {_table(LabelingFunction)} f ON f.id = v.labeling_function_id WHERE f.project_id = %s",
        [*params, project.pk], 3,
    )  # fmt: skip
    rows = rows[rows[:, 2] >= 0]
    if not len(rows):
        return
    lf_ids, inverse = np.unique(rows[:, 1], return_inverse=True)
    sources = []
    for lf_id in lf_ids:
        name, kind = functions[int(lf_id)]
        external = kind == LabelingFunctionKind.EXTERNAL
        sources.append(Source(
            f"lf:{lf_id}", SourceKind.EXTERNAL if external else SourceKind.LABELING_FUNCTION, name,
            lf_id=int(lf_id), silent=True,
        ))  # fmt: skip
    indices = found.sources_add(sources)
    found.add(rows[:, 0], indices[inverse], rows[:, 2])


def _end_model(found: ProjectAnswers, project: Project) -> None:
    case, params = _class_of("label", found.keys)
    rows = _columns(
        f"SELECT item_id, {case} FROM {_table(ItemEndModelLabel)} WHERE project_id = %s",
        [*params, project.pk],
        2,
    )
    rows = rows[rows[:, 1] >= 0]
    if len(rows):
        index = found.sources_add([Source("end_model", SourceKind.END_MODEL, "End model")])[0]
        found.add(rows[:, 0], np.full(len(rows), index), rows[:, 1])


def _learner(found: ProjectAnswers, project: Project, annotated: Ints) -> None:
    case, params = _class_of("suggested_label", found.keys)
    rows = _columns(
        f"SELECT id, {case} FROM {_table(Item)} WHERE project_id = %s AND suggested_label <> ''",
        [*params, project.pk], 2,
    )  # fmt: skip
    gold = np.fromiter(found.gold, dtype=np.int64, count=len(found.gold))
    rows = rows[(rows[:, 1] >= 0) & ~np.isin(rows[:, 0], annotated) & ~np.isin(rows[:, 0], gold)]
    if len(rows):
        index = found.sources_add([Source("learner", SourceKind.LEARNER, "Active learner")])[0]
        found.add(rows[:, 0], np.full(len(rows), index), rows[:, 1])
