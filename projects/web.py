from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from rest_framework.views import APIView

from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from core.htmx import HtmxHttpRequest
from projects.models import Project
from projects.permissions import Action, role_allows
from projects.selectors import project_get_for_user


class ProjectScopedMixin:
    """Resolves `slug` from the URL to a permission-checked project (the selector the HTML views use too)."""

    def get_project(self, action: Action = Action.VIEW) -> Project:
        view: APIView = self  # type: ignore[assignment]
        return project_get_for_user(user=view.request.user, slug=view.kwargs["slug"], action=action)


ProjectView = Callable[..., HttpResponse]


def project_view(action: Action = Action.VIEW) -> Callable[[ProjectView], ProjectView]:
    """Resolves `slug` to a permission-checked project (the same selector as the API) and passes it on."""

    def decorator(view: ProjectView) -> ProjectView:
        @login_required
        @wraps(view)
        def wrapper(request: HtmxHttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                project = project_get_for_user(user=request.user, slug=slug, action=action)
            except NotFoundError as exc:
                raise Http404(exc.message) from exc
            except PermissionDeniedError as exc:
                raise PermissionDenied(exc.message) from exc
            return view(request, project, *args, **kwargs)

        return wrapper

    return decorator


def add_error(form: forms.Form, exc: ValidationError | ApplicationError) -> None:
    form.add_error(None, exc.message if isinstance(exc, ApplicationError) else exc)


def _can(project: Project, action: Action) -> bool:
    return role_allows(project.user_role, action)  # type: ignore[attr-defined]
