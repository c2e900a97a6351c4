from __future__ import annotations

from typing import Any

from labeling.models import Project
from weak_supervision.models import LabelingFunction
from weak_supervision.services.functions import labeling_function_create


def keyword_lf(project: Project, name: str, label: str, *keywords: str, **options: Any) -> LabelingFunction:
    return labeling_function_create(project=project, user=None, name=name, kind="keyword", label=label,
                                    spec={"keywords": list(keywords), **options})  # fmt: skip


def regex_lf(project: Project, name: str, label: str, pattern: str) -> LabelingFunction:
    return labeling_function_create(project=project, user=None, name=name, kind="regex", label=label,
                                    spec={"pattern": pattern})  # fmt: skip
