"""Every non-trivial read of the labeling app, permission-scoped where a user is involved."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet

from core.exceptions import NotFoundError, PermissionDeniedError
from labeling.choices import ImportStatus, Role
from labeling.models import Annotation, Flag, ImportJob, Item, Membership, Project
from labeling.permissions import Action, role_allows
from labeling.selectors.imports import import_progress_key

AnyUser = AbstractBaseUser | AnonymousUser


def _is_superuser(user: AnyUser) -> bool:
    return bool(getattr(user, "is_superuser", False)) and bool(user.is_active)


def project_list_for_user(*, user: AnyUser) -> QuerySet[Project]:
    projects = Project.objects.all()
    if not user.is_authenticated:
        return projects.none()
    if not _is_superuser(user):
        projects = projects.filter(memberships__user_id=int(user.pk))
    return projects.order_by("name")


def project_role_for_user(*, project: Project, user: AnyUser) -> str | None:
    if _is_superuser(user):
        return Role.OWNER
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(project=project, user_id=user.pk).values_list("role", flat=True).first()


def project_get_for_user(*, user: AnyUser, slug: str, action: Action = Action.VIEW) -> Project:
    """The project, if the user may take `action` on it: 404 to non-members, 403 to members without the role."""
    project = Project.objects.filter(slug=slug).first()
    role = project_role_for_user(project=project, user=user) if project is not None else None
    if project is None or role is None:
        raise NotFoundError("Project not found.")
    if not role_allows(role, action):
        raise PermissionDeniedError()
    project.user_role = role  # type: ignore[attr-defined]
    return project


def project_allows(project: Project, action: Action) -> bool:
    """Whether the member the project was resolved for (project_get_for_user) may take `action` on it."""
    return role_allows(getattr(project, "user_role", ""), action)


def suggestions_shown(*, project: Project) -> bool:
    """Whether the labeling view may show this member the model's suggestion (active learning decides
    whether there is one): analysts only where the project lets them, everyone else always."""
    return project.analysts_see_suggestions or project_allows(project, Action.SEE_MODEL_OUTPUTS)


def project_stats(*, project: Project, user: AnyUser | None = None) -> dict[str, Any]:
    """Counts for the project page: items per split, labeled items, annotations per label.

    With a `user` who may not see others' answers, the annotations per label are only that user's own: on a
    small project the label counts of everyone would tell an analyst the answers she has not given yet.
    """
    items = Item.objects.filter(project=project)
    by_split = dict(items.values_list("split").annotate(n=Count("id")).order_by())
    total = sum(by_split.values())
    annotations = Annotation.objects.filter(project=project)
    labeled = annotations.values("item_id").distinct().count()
    per_label: dict[str, int] = {label.key: 0 for label in project.labels.all()}
    counted = annotations
    if user is not None and not project_allows(project, Action.SEE_OTHERS_ANSWERS):
        counted = annotations.filter(annotator_id=int(user.pk or 0))
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


def item_list(*, project: Project) -> QuerySet[Item]:
    return Item.objects.filter(project=project).annotate(annotation_count=Count("annotations")).order_by("id")


def item_get(*, project: Project, item_id: int) -> Item:
    item = Item.objects.filter(project=project, pk=item_id).first()
    if item is None:
        raise NotFoundError("Item not found.")
    return item


def item_annotations(*, item: Item) -> QuerySet[Annotation]:
    return (
        item.annotations.select_related("annotator")
        .prefetch_related("revisions", "rationales")
        .order_by("created_at")
    )


def item_annotations_for_user(*, project: Project, item: Item, user: AnyUser) -> QuerySet[Annotation]:
    """The item's annotations this member may see: all of them, or (blind labeling) only their own."""
    annotations = item_annotations(item=item)
    if not project_allows(project, Action.SEE_OTHERS_ANSWERS):
        annotations = annotations.filter(annotator_id=int(user.pk or 0))
    return annotations


def item_flags_for_user(*, project: Project, item: Item, user: AnyUser) -> QuerySet[Flag]:
    """The item's flags this member may see, latest first: all of them, or only their own."""
    flags = item.flags.select_related("user").order_by("-created_at")
    if not project_allows(project, Action.SEE_OTHERS_ANSWERS):
        flags = flags.filter(user_id=int(user.pk or 0))
    return flags


def membership_list(*, project: Project) -> QuerySet[Membership]:
    return Membership.objects.filter(project=project).select_related("user").order_by("user__username")


def membership_list_for_user(*, project: Project, user: AnyUser) -> QuerySet[Membership]:
    """The members this member may see: everyone, or for an analyst the owners, reviewers and data
    scientists (whom she may ask) and herself, never another analyst."""
    memberships = membership_list(project=project)
    if not project_allows(project, Action.SEE_OTHERS_ANSWERS):
        memberships = memberships.exclude(Q(role=Role.ANALYST) & ~Q(user_id=int(user.pk or 0)))
    return memberships


def membership_get(*, project: Project, user_id: int) -> Membership:
    membership = Membership.objects.filter(project=project, user_id=user_id).select_related("project").first()
    if membership is None:
        raise NotFoundError("Member not found.")
    return membership


def import_job_list(*, project: Project) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(project=project).select_related("created_by").order_by("-created_at")


def import_job_get(*, project: Project, job_id: int) -> ImportJob:
    job = ImportJob.objects.filter(project=project, pk=job_id).first()
    if job is None:
        raise NotFoundError("Import not found.")
    return job


def import_job_progress(*, job: ImportJob) -> dict[str, Any]:
    """Rows done and fraction of the source read: from the cache while running, from the row when done."""
    if job.status == ImportStatus.SUCCEEDED:
        return {"rows": job.rows_total, "fraction": 1.0, "percent": 100}
    if job.status == ImportStatus.FAILED:
        return {"rows": 0, "fraction": 0.0, "percent": 0}
    value = cache.get(import_progress_key(job.pk))
    rows, fraction = (value["rows"], value["fraction"]) if isinstance(value, dict) else (0, 0.0)
    return {"rows": rows, "fraction": fraction, "percent": int(fraction * 100)}
