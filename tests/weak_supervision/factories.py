from __future__ import annotations

from typing import Any, cast

from labeling.models import EvaluationLabel, GoldLabel
from projects.choices import Split
from projects.models import Item, Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory
from weak_supervision.models import LabelingFunction
from weak_supervision.services.functions import labeling_function_create


def keyword_lf(project: Project, name: str, label: str, *keywords: str, **options: Any) -> LabelingFunction:
    return labeling_function_create(project=project, user=None, name=name, kind="keyword", label=label,
                                    spec={"keywords": list(keywords), **options})  # fmt: skip


def regex_lf(project: Project, name: str, label: str, pattern: str) -> LabelingFunction:
    return labeling_function_create(project=project, user=None, name=name, kind="regex", label=label,
                                    spec={"pattern": pattern})  # fmt: skip


SPAM = [
    "win a free prize now",
    "free cash prize claim now",
    "claim your free prize today",
    "urgent prize win cash",
]
HAM = [
    "see you at home tonight",
    "dinner at home with mum",
    "home late tonight sorry",
    "are you home for dinner",
]


def project_with_uncovered_test_items() -> Project:
    """Train items the LFs cover; test items (with gold) that no LF covers but whose words the train items
    share ("cash", "claim", "dinner", "mum")."""
    project = ProjectFactory()
    for index in range(40):
        texts = SPAM if index % 2 else HAM
        ItemFactory(project=project, text=f"{texts[(index // 2) % 4]} {index}", split=Split.TRAIN)
    for index, text in enumerate(
        ["claim cash urgent", "cash claim today", "mum dinner later", "dinner with mum"]
    ):
        item = ItemFactory(project=project, text=text, split=Split.TEST, external_id=f"t{index}")
        AnnotationFactory(item=item, labels=["spam" if index < 2 else "ham"])
    keyword_lf(project, "prize", "spam", "prize")
    keyword_lf(project, "free", "spam", "free", "win")
    keyword_lf(project, "home", "ham", "home")
    return project


# --- span projects ---------------------------------------------------------------------------------------
PEOPLE = ["Anna Berg", "Carl Dahl", "Eva Falk"]
PLACES = ["Oslo", "Paris", "Rome"]


def span_of(text: str, part: str, label: str) -> dict[str, Any]:
    start = text.index(part)
    return {"start": start, "end": start + len(part), "label": label, "text": part}


def span_project(slug: str = "ner") -> Project:
    """36 valid items with gold spans, 6 test items with evaluation-only spans, 6 train items without."""
    project = cast(Project, ProjectFactory(slug=slug, kind="spans", labels=["per", "loc"]))
    for index in range(48):
        person, place = PEOPLE[index % 3], PLACES[index % 3]
        text = f"{person} flew to {place} on day {index}."
        split = Split.VALID if index < 36 else Split.TEST if index < 42 else Split.TRAIN
        item = cast(Item, ItemFactory(project=project, text=text, split=split))
        spans = [span_of(text, person, "per"), span_of(text, place, "loc")]
        if split == Split.VALID:
            GoldLabel.objects.create(project=project, item=item, labels=["per", "loc"], spans=spans)
        elif split == Split.TEST:
            EvaluationLabel.objects.create(project=project, item=item, labels=["per", "loc"], spans=spans)
    return project


def span_lf(project: Project, name: str, kind: str, label: str, spec: dict[str, Any]) -> LabelingFunction:
    return labeling_function_create(project=project, user=None, name=name, kind=kind, label=label, spec=spec)
