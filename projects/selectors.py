from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Q, QuerySet

from core.exceptions import NotFoundError
from projects.access import ProjectAccess
from projects.choices import Role
from projects.models import Item, Membership, Project
from projects.permissions import Action

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


def project_get_for_user(*, user: AnyUser, slug: str, action: Action = Action.VIEW) -> ProjectAccess:
    """The user's access to the project, if they may take `action` on it: 404 to non-members (and to
    anonymous users), 403 to members whose role does not allow it (the Action table)."""
    project = Project.objects.filter(slug=slug).first()
    role = project_role_for_user(project=project, user=user) if project is not None else None
    if project is None or role is None or not isinstance(user, User):
        raise NotFoundError("Project not found.")
    access = ProjectAccess(project=project, user=user, role=role)
    access.require(action)
    return access


def item_list(*, project: Project) -> QuerySet[Item]:
    return Item.objects.filter(project=project).annotate(annotation_count=Count("annotations")).order_by("id")


def item_get(*, project: Project, item_id: int) -> Item:
    item = Item.objects.filter(project=project, pk=item_id).first()
    if item is None:
        raise NotFoundError("Item not found.")
    return item


def membership_list(*, project: Project) -> QuerySet[Membership]:
    return Membership.objects.filter(project=project).select_related("user").order_by("user__username")


def membership_list_for_user(*, access: ProjectAccess) -> QuerySet[Membership]:
    """The members this member may see: everyone, or for an analyst the owners, reviewers and data
    scientists (whom she may ask) and herself, never another analyst."""
    memberships = membership_list(project=access.project)
    if not access.allows(Action.SEE_OTHERS_ANSWERS):
        memberships = memberships.exclude(Q(role=Role.ANALYST) & ~Q(user_id=access.user.pk))
    return memberships


def membership_get(*, project: Project, user_id: int) -> Membership:
    membership = Membership.objects.filter(project=project, user_id=user_id).select_related("project").first()
    if membership is None:
        raise NotFoundError("Member not found.")
    return membership
