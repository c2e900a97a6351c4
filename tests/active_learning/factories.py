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
