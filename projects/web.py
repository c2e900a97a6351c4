"""The door every project page and project API view comes through: `slug` in the URL resolves to a
permission-checked `ProjectAccess` (project, user, role) by the same selector for HTML and REST."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from rest_framework.views import APIView

from core.htmx import HtmxHttpRequest
from core.web import html_errors
from projects.access import ProjectAccess
from projects.authentication import project_read_of
from projects.models import Project
from projects.permissions import Action
from projects.selectors import project_get_for_user


class ProjectScopedMixin(APIView):
    """Resolves `slug` from the URL to a permission-checked ProjectAccess (the selector the pages use too);
    NotFoundError and PermissionDeniedError become 404 and 403 through core.api.exception_handlers."""

    def get_access(self, action: Action = Action.VIEW) -> ProjectAccess:
        read = project_read_of(self.request._request)  # the token authentication's read, where it made one
        return project_get_for_user(
            user=self.request.user, slug=self.kwargs["slug"], action=action, read=read
        )

    def get_project(self, action: Action = Action.VIEW) -> Project:
        return self.get_access(action).project


ProjectView = Callable[..., HttpResponseBase]
# The access each project page was resolved with, for its templates (access_context); weak keys: an entry
# goes with its request.
_ACCESS: weakref.WeakKeyDictionary[HttpRequest, ProjectAccess] = weakref.WeakKeyDictionary()


def access_context(request: HttpRequest) -> dict[str, ProjectAccess | None]:
    """Template context processor: `access` on project pages (None elsewhere)."""
    return {"access": _ACCESS.get(request)}


def project_view(action: Action = Action.VIEW) -> Callable[[ProjectView], ProjectView]:
    """Resolves `slug` to a permission-checked ProjectAccess and passes it to the view as its second
    argument; domain errors anywhere in the view map to 404/403 (core.web.html_errors)."""

    def decorator(view: ProjectView) -> ProjectView:
        @login_required
        @wraps(view)
        @html_errors
        def wrapper(request: HtmxHttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
            access = project_get_for_user(user=request.user, slug=slug, action=action)
            _ACCESS[request] = access
            return view(request, access, *args, **kwargs)

        return wrapper

    return decorator
