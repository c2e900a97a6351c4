"""Tiny corpora whose classes use different words, as texts (for the pure functions) and as projects."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

import numpy as np
import numpy.typing as npt
from django.contrib.auth.models import User

from core.spans import SpanDict, span_make
from labeling.models import Annotation, GoldLabel
from projects.choices import ProjectKind, Split
from projects.models import Item, Project
from tests.labeling.factories import AnnotationFactory, GoldLabelFactory
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

# factory_boy is untyped: these name what the labeling app's factories build, for mypy.
new_project = cast(Callable[..., Project], ProjectFactory)
new_item = cast(Callable[..., Item], ItemFactory)
new_user = cast(Callable[..., User], UserFactory)
new_annotation = cast(Callable[..., Annotation], AnnotationFactory)
new_gold_label = cast(Callable[..., GoldLabel], GoldLabelFactory)

VOCABULARIES = {
    "ham": ("meeting", "lunch", "family", "garden", "dinner", "office", "weekend", "library"),
    "spam": ("prize", "winner", "cash", "bonus", "lottery", "claim", "offer", "jackpot"),
    "sport": ("football", "tennis", "match", "goal", "runner", "stadium", "coach", "league"),
}


def corpus_text(label: str, index: int) -> str:
    """Three words of the label's vocabulary and a token of the text's own (no two texts are the same)."""
    words = VOCABULARIES[label]
    return f"{words[index % 8]} {words[(index + 3) % 8]} {words[(5 * index + 1) % 8]} n{index}"


def corpus(n: int, labels: Sequence[str] = ("ham", "spam")) -> tuple[list[str], npt.NDArray[np.int64]]:
    """n texts, their classes taking turns: ham, spam, ham, ..."""
    y = (np.arange(n) % len(labels)).astype(np.int64)
    return [corpus_text(labels[int(label)], index) for index, label in enumerate(y)], y


def corpus_project_build(
    *, items: int = 60, gold: int = 20, test_every: int = 5, labels: Sequence[str] = ("ham", "spam"),
    gold_classes: Sequence[str] | None = None, multi_label: bool = False,
) -> Project:  # fmt: skip
    """A project of `items` items whose classes take turns; the first `gold` items (of `gold_classes`, all
    by default) get an agreed annotation, so a gold label, and every `test_every`-th gold item is in the
    test split. The other items stay open (one annotation wanted each)."""
    kind = ProjectKind.MULTI if multi_label else ProjectKind.SINGLE
    project = new_project(labels=list(labels), multi_label=multi_label, kind=kind)
    given = 0
    for index in range(items):
        label = labels[index % len(labels)]
        is_gold = given < gold and label in (gold_classes or labels)
        split = Split.TEST if is_gold and test_every and given % test_every == 0 else Split.TRAIN
        item = new_item(
            project=project, external_id=f"c{index:03d}", text=corpus_text(label, index), split=split
        )
        if is_gold:
            new_annotation(item=item, labels=[label])
            given += 1
    return project


def texts_by_id(project: Project) -> dict[int, str]:
    return dict(Item.objects.filter(project=project).values_list("pk", "text"))


# --- span projects: short sentences naming a person and a place ----------------------------------------------
PEOPLE = ("Alice", "Bruno", "Chen", "Dana", "Emil", "Farah", "Goran", "Hana")
PLACES = ("Paris", "Oslo", "Lima", "Quito", "Dakar", "Hanoi", "Perth", "Riga")


def span_sentence(index: int) -> tuple[str, list[SpanDict]]:
    """'<Person> flew to <Place> on day <n> .' and its two spans (per, loc)."""
    person, place = PEOPLE[index % 8], PLACES[(3 * index + 1) % 8]
    text = f"{person} flew to {place} on day {index} ."
    where = text.index(place)
    return text, [span_make(text, 0, len(person), "per"), span_make(text, where, where + len(place), "loc")]


def span_project_build(*, items: int = 40, gold: int = 16, test_every: int = 4) -> Project:
    """A span project (types per, loc) of `items` sentences; the first `gold` get an annotation with their
    spans, every `test_every`-th of those in the test split. The other items stay open."""
    project = new_project(labels=["per", "loc"], kind=ProjectKind.SPANS)
    for index in range(items):
        text, spans = span_sentence(index)
        is_gold = index < gold
        split = Split.TEST if is_gold and test_every and index % test_every == 0 else Split.TRAIN
        item = new_item(project=project, external_id=f"s{index:03d}", text=text, split=split)
        if is_gold:
            new_annotation(item=item, labels=["per", "loc"], spans=spans)
    return project


RELATION_WORDS = {"cause": "was caused by", "part": "is part of"}
ENTITIES = [f"{first}{second}" for first in ("ka", "lo", "mi", "nu", "pe", "ro", "su", "ti") for second in
            ("bar", "cel", "dor", "fen", "gul", "hix", "jom", "kep", "lum", "mor")]  # fmt: skip


def relation_text(label: str, index: int) -> tuple[str, dict[str, object]]:
    """A relation item: two entities marked by `span1` and `span2`, the class's words between them and the
    other class's words before them, so that only the words between the spans tell the classes apart."""
    first, second = ENTITIES[(7 * index) % len(ENTITIES)], ENTITIES[(11 * index + 3) % len(ENTITIES)]
    other = next(words for key, words in RELATION_WORDS.items() if key != label)
    start1 = len(other) + 1
    start2 = start1 + len(first) + len(RELATION_WORDS[label]) + 2
    text = f"{other} {first} {RELATION_WORDS[label]} {second}"
    return text, {"span1": [start1, start1 + len(first)], "span2": [start2, start2 + len(second)]}


def relation_project_build(*, items: int = 120, gold: int = 60) -> Project:
    """A relation project whose classes only the words between the marked entities tell apart (the texts of
    both classes hold the same words); the first `gold` items are gold, every fifth in the test split."""
    labels = list(RELATION_WORDS)
    project = new_project(labels=labels)
    for index in range(items):
        label = labels[index % 2]
        text, metadata = relation_text(label, index)
        split = Split.TEST if index < gold and index % 5 == 0 else Split.TRAIN
        item = new_item(
            project=project, external_id=f"r{index:03d}", text=text, metadata=metadata, split=split
        )
        if index < gold:
            new_annotation(item=item, labels=[label])
    return project
