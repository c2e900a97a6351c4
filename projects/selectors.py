from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.db.models import Q, QuerySet

from accounts.models import ApiToken
from accounts.selectors import TOKEN_COLUMNS, TOKEN_FROM, api_token_of_row
from core.exceptions import NotFoundError
from core.queries import models_from_sql
from projects.access import ProjectAccess
from projects.choices import LabelChangeAction, Role
from projects.models import Item, ItemSearchText, Label, LabelChange, Membership, Project
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


# Every project page and API request reads this: one statement written out (the ORM's select_related costs
# about 0.6 ms of CPU per request to build), the project read whole, the membership's columns beside it.
_MEMBER_COLUMNS = "m.id AS member_id, m.role AS member_role, m.review_all_labels AS member_review_all_labels"
_MEMBERSHIP_WITH_PROJECT = (
    f"SELECT p.*, {_MEMBER_COLUMNS}"
    f" FROM {Project._meta.db_table} p JOIN {Membership._meta.db_table} m ON m.project_id = p.id"
    " WHERE p.slug = %s AND m.user_id = %s"
)
# An API request on a project's URL reads its token and the caller's membership of that project at once
# (projects.authentication): one statement and one round trip fewer per request on the labeling hot path.
_PROJECT_COLUMNS = ", ".join(
    f"p.{field.column} AS project__{field.column}" for field in Project._meta.concrete_fields
)
_TOKEN_WITH_MEMBERSHIP = (
    f"SELECT {TOKEN_COLUMNS}, {_MEMBER_COLUMNS}, {_PROJECT_COLUMNS} FROM {TOKEN_FROM}"
    f" LEFT JOIN {Project._meta.db_table} p ON p.slug = %s"
    f" LEFT JOIN {Membership._meta.db_table} m ON m.project_id = p.id AND m.user_id = u.id"
    " WHERE t.digest = %s"
)


def _membership_of_row(row: Any, project: Project, user: User) -> Membership | None:
    if row.member_id is None:
        return None
    return Membership(
        pk=row.member_id, project=project, user=user, role=row.member_role,
        review_all_labels=bool(row.member_review_all_labels),
    )  # fmt: skip


def _membership_with_project(*, slug: str, user: User) -> Membership | None:
    found = models_from_sql(Project, _MEMBERSHIP_WITH_PROJECT, [slug, user.pk])
    return _membership_of_row(found[0], found[0], user) if found else None


@dataclass(frozen=True)
class ProjectRead:
    """What an API request's authentication read about the project in its URL, for the caller: the project
    (None: no project has that slug) and the caller's membership (None: not a member)."""

    slug: str
    user_id: int
    project: Project | None
    membership: Membership | None


def api_token_with_project_read(*, key: str, slug: str) -> tuple[ApiToken | None, ProjectRead | None]:
    """The token with this key (its user attached) and, for its user, what project_get_for_user reads about
    the project `slug`, in one statement; (None, None) for an unknown key."""
    digest = ApiToken.digest_of(key)
    found = models_from_sql(User, _TOKEN_WITH_MEMBERSHIP, [slug, digest], related={"project": Project})
    if not found:
        return None, None
    user = found[0]
    token = api_token_of_row(user, digest)
    row = cast(Any, user)
    project: Project | None = row.project
    membership = _membership_of_row(row, project, user) if project is not None else None
    return token, ProjectRead(slug=slug, user_id=user.pk, project=project, membership=membership)


def project_get_for_user(
    *, user: AnyUser, slug: str, action: Action = Action.VIEW, read: ProjectRead | None = None
) -> ProjectAccess:
    """The user's access to the project, if they may take `action` on it: 404 to non-members (and to
    anonymous users), 403 to members whose role does not allow it (the Action table).

    One query for a member: the membership row with its project (every request of the labeling hot path
    comes through here); a superuser who is not a member costs a second one. None where the request's
    authentication already read it for this user and slug (`read`: api_token_with_project_read)."""
    if not isinstance(user, User) or not user.is_authenticated:
        raise NotFoundError("Project not found.")
    if read is not None and read.slug == slug and read.user_id == user.pk:
        membership, found = read.membership, read.project
    else:
        membership = _membership_with_project(slug=slug, user=user)
        found = None
        if membership is None and _is_superuser(user):
            found = Project.objects.filter(slug=slug).first()
    if membership is not None:
        role = Role.OWNER if _is_superuser(user) else membership.role
        project = membership.project
    else:
        if found is None or not _is_superuser(user):
            raise NotFoundError("Project not found.")
        project, role = found, Role.OWNER
    access = ProjectAccess(project=project, user=user, role=role, membership=membership)
    access.require(action)
    return access


# A project's label schema, per process, keyed by the project's id and updated_at: the schema is written when
# the project is made (and in the admin, whose save touches the project), so a changed project is a new key.
# The labeling hot path reads it on every submit; this saves it a query.
_LABELS: dict[tuple[int, datetime], tuple[Label, ...]] = {}
LABELS_CACHED = 512


def project_labels(*, project: Project) -> tuple[Label, ...]:
    """The project's labels in schema order (cached per process, see _LABELS)."""
    key = (project.pk, project.updated_at)
    labels = _LABELS.get(key)
    if labels is None:
        labels = tuple(Label.objects.filter(project_id=project.pk).order_by("order", "id"))
        if len(_LABELS) >= LABELS_CACHED:
            _LABELS.clear()
        _LABELS[key] = labels
    return labels


_ALIASES: dict[tuple[int, datetime], dict[str, str]] = {}


def project_label_aliases(*, project: Project) -> dict[str, str]:
    """Keys merged away (projects.services.label_schema.label_merge) and the key each now names, following
    merges of merges (cached per process as the labels are)."""
    cache_key = (project.pk, project.updated_at)
    aliases = _ALIASES.get(cache_key)
    if aliases is None:
        merged = dict(
            LabelChange.objects.filter(project_id=project.pk, action=LabelChangeAction.MERGE)
            .order_by("created_at", "id")
            .values_list("key", "into")
        )
        aliases = {}
        for source, target in merged.items():
            seen = {source}
            while target in merged and target not in seen:
                seen.add(target)
                target = merged[target]
            aliases[source] = target
        if len(_ALIASES) >= LABELS_CACHED:
            _ALIASES.clear()
        _ALIASES[cache_key] = aliases
    return aliases


def project_labels_forget() -> None:
    """Empties the per-process label cache (tests that reuse ids and clocks)."""
    _LABELS.clear()
    _ALIASES.clear()


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


def label_history(*, project: Project) -> QuerySet[LabelChange]:
    """The project's schema changes, latest first, with who made them."""
    return (
        LabelChange.objects.filter(project=project)
        .select_related("changed_by")
        .order_by("-created_at", "-id")
    )


def items_text_contain(*, project: Project, text: str) -> Q:
    """The project's items whose text contains `text`, whatever its case (as `icontains`). On PostgreSQL the
    items up to the project's `search_indexed_through` are read from the trigram index of their search rows
    and any newer item's text is scanned (projects.services.search); on SQLite every text is scanned."""
    through = project.search_indexed_through
    if connection.vendor != "postgresql" or not through:
        return Q(text__icontains=text)
    indexed = Q(pk__in=ItemSearchText.objects.filter(project=project, text__icontains=text).values("item_id"))
    if not Item.objects.filter(project=project, pk__gt=through).exists():
        return indexed
    return indexed | Q(pk__gt=through, text__icontains=text)
