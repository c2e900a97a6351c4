"""Every non-trivial read of the labeling app, permission-scoped where a user is involved."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from labeling.hooks import Suggestion
from labeling.models import Annotation, Flag
from projects.access import ProjectAccess
from projects.models import Item, Project
from projects.permissions import Action
from projects.selectors import project_labels


def item_suggestion(*, project: Project, item: Item) -> Suggestion | None:
    """The model's suggestion stored on the item by the latest retrain that ranked it (no query: the label's
    name comes from the per-process schema), or None."""
    if not item.suggested_label:
        return None
    names = {label.key: label.name for label in project_labels(project=project)}
    return Suggestion(
        label=item.suggested_label, name=names.get(item.suggested_label, item.suggested_label),
        confidence=round(float(item.suggested_confidence or 0.0), 4), model=int(item.suggested_by or 0),
    )  # fmt: skip


def suggestions_shown(*, access: ProjectAccess) -> bool:
    """Whether the labeling view may show this member the model's suggestion (active learning decides
    whether there is one): analysts only where the project lets them, everyone else always."""
    return access.project.analysts_see_suggestions or access.allows(Action.SEE_MODEL_OUTPUTS)


def project_stats(*, project: Project, viewer: ProjectAccess | None = None) -> dict[str, Any]:
    """Counts for the project page: items per split, labeled items, annotations per label.

    With a `viewer` who may not see others' answers, the annotations per label are only that user's own: on a
    small project the label counts of everyone would tell an analyst the answers she has not given yet.
    """
    items = Item.objects.filter(project=project)
    by_split = dict(items.values_list("split").annotate(n=Count("id")).order_by())
    total = sum(by_split.values())
    annotations = Annotation.objects.filter(project=project)
    labeled = annotations.values("item_id").distinct().count()
    per_label: dict[str, int] = {label.key: 0 for label in project.labels.all()}
    counted = annotations
    if viewer is not None and not viewer.allows(Action.SEE_OTHERS_ANSWERS):
        counted = annotations.filter(annotator_id=viewer.user.pk)
    # Grouped by the whole label list in the database: there are few distinct lists (one per label in a
    # single-label project), so counting stays cheap with a million annotations.
    for labels, count in (
        counted.values_list("labels").annotate(n=Count("id")).order_by().values_list("labels", "n")
    ):
        for key in labels or []:
            per_label[key] = per_label.get(key, 0) + count
    return {
        "items": total,
        "by_split": {split or "none": count for split, count in sorted(by_split.items())},
        "labeled_items": labeled,
        "annotations": annotations.count(),
        "per_label": per_label,
    }


def item_annotations(*, item: Item) -> QuerySet[Annotation]:
    return (
        item.annotations.select_related("annotator")
        .prefetch_related("revisions", "rationales")
        .order_by("created_at")
    )


def item_annotations_for_user(*, access: ProjectAccess, item: Item) -> QuerySet[Annotation]:
    """The item's annotations this member may see: all of them, or (blind labeling) only their own."""
    annotations = item_annotations(item=item)
    if not access.allows(Action.SEE_OTHERS_ANSWERS):
        annotations = annotations.filter(annotator_id=access.user.pk)
    return annotations


def item_flags_for_user(*, access: ProjectAccess, item: Item) -> QuerySet[Flag]:
    """The item's flags this member may see, latest first: all of them, or only their own."""
    flags = item.flags.select_related("user").order_by("-created_at")
    if not access.allows(Action.SEE_OTHERS_ANSWERS):
        flags = flags.filter(user_id=access.user.pk)
    return flags
