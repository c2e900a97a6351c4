from __future__ import annotations

from typing import Any

from projects.choices import Split
from projects.models import Project
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
