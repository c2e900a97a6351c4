from __future__ import annotations

from labeling.models import Project
from weak_supervision.choices import LabelingFunctionKind
from weak_supervision.models import LabelingFunction


def external_labeling_functions_ensure(
    *, project: Project, names: list[str], description: str = ""
) -> list[int]:
    """Returns the ids of the project's external LFs with these names, in order, creating the missing ones."""
    existing = dict(
        LabelingFunction.objects.filter(project=project, name__in=names).values_list("name", "id")
    )
    missing = [
        LabelingFunction(
            project=project, name=name, kind=LabelingFunctionKind.EXTERNAL, description=description
        )
        for name in names
        if name not in existing
    ]
    for lf in LabelingFunction.objects.bulk_create(missing):
        existing[lf.name] = lf.pk
    return [existing[name] for name in names]
