from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.services import account_create
from projects.choices import Role
from projects.models import Membership, Project

ERROR_UNKNOWN_USER = "There is no user called '{username}'."
ERROR_ALREADY_MEMBER = "'{username}' is already a member of this project."
ERROR_LAST_OWNER = "A project must keep at least one owner."
ERROR_BAD_ROLE = "Unknown role '{role}'; roles are: {roles}."


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise ValidationError(ERROR_BAD_ROLE.format(role=role, roles=", ".join(Role.values)), code="role")


def membership_add(*, project: Project, username: str, role: str) -> Membership:
    _check_role(role)
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ValidationError(ERROR_UNKNOWN_USER.format(username=username), code="unknown_user")
    if Membership.objects.filter(project=project, user=user).exists():
        raise ValidationError(ERROR_ALREADY_MEMBER.format(username=username), code="already_member")
    return Membership.objects.create(project=project, user=user, role=role)


def membership_create_with_account(*, project: Project, username: str, email: str, role: str) -> Membership:
    """Creates an account without a password and makes it a member; the caller hands out a set-password link."""
    _check_role(role)
    with transaction.atomic():
        user = account_create(username=username, email=email)
        return Membership.objects.create(project=project, user=user, role=role)


def _lock_owners(project: Project) -> int:
    return Membership.objects.select_for_update().filter(project=project, role=Role.OWNER).count()


def membership_set_role(*, membership: Membership, role: str) -> Membership:
    _check_role(role)
    with transaction.atomic():
        if membership.role == Role.OWNER and role != Role.OWNER and _lock_owners(membership.project) <= 1:
            raise ValidationError(ERROR_LAST_OWNER, code="last_owner")
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
    return membership


def membership_remove(*, membership: Membership) -> None:
    with transaction.atomic():
        if membership.role == Role.OWNER and _lock_owners(membership.project) <= 1:
            raise ValidationError(ERROR_LAST_OWNER, code="last_owner")
        membership.delete()
