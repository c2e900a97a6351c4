"""Who is acting on a project, as a typed value: what `project_get_for_user` returns.

Pages, API views and viewer-scoped selectors take a `ProjectAccess` instead of a Project with a role
attached at run time. Every authorization decision goes through the `Action` table (projects.permissions)
via `allows`; nothing compares role names.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User

from core.exceptions import PermissionDeniedError
from projects.models import Membership, Project
from projects.permissions import Action, role_allows


@dataclass(frozen=True)
class ProjectAccess:
    project: Project
    user: User
    role: str  # a projects.choices.Role value; a superuser acts as an owner
    # The member's row, read with the project in one query (None for a superuser who is not a member).
    membership: Membership | None = None

    def allows(self, action: Action) -> bool:
        return role_allows(self.role, action)

    @property
    def can(self) -> frozenset[str]:
        """The Action values this role may take, for templates: {% if 'review' in access.can %}."""
        return frozenset(action.value for action in Action if self.allows(action))

    def require(self, action: Action) -> None:
        """Raises PermissionDeniedError unless the role may take `action` (403 on pages and the API)."""
        if not self.allows(action):
            raise PermissionDeniedError()
