"""The one front door for HTML views: how domain errors become responses, how a form shows a service's
refusal, and how a view redirects an htmx request. API views get the same mapping from
core.api.exception_handlers; management commands from core.commands.

- NotFoundError -> 404 and PermissionDeniedError -> 403 (`html_errors`, applied to every project page by
  projects.web.project_view);
- a service's ValidationError or ApplicationError raised while handling a valid form -> the form shows it
  and the page answers 422 (`form_run`, `form_status`);
- a redirect after a successful POST -> HX-Redirect for htmx, 302 otherwise (`redirect_htmx`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django_htmx.http import HttpResponseClientRedirect
from rest_framework.request import Request

from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from core.htmx import HtmxHttpRequest

T = TypeVar("T")
View = Callable[..., HttpResponseBase]

# A POST whose form (or the service behind it) refused the input.
STATUS_INVALID = 422


def html_errors(view: View) -> View:
    """Maps the services' NotFoundError to a 404 page and PermissionDeniedError to a 403 page."""

    @wraps(view)
    def wrapper(request: HtmxHttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except NotFoundError as exc:
            raise Http404(exc.message) from exc
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc

    return wrapper


def form_error_add(form: forms.BaseForm, exc: ValidationError | ApplicationError) -> None:
    """Shows a service's refusal on the form, as a non-field error (a ValidationError keeps its fields)."""
    form.add_error(None, exc.message if isinstance(exc, ApplicationError) else exc)


def form_run(form: forms.BaseForm, action: Callable[[], T]) -> T | None:
    """Runs the service behind a valid form; a ValidationError or ApplicationError it raises goes onto the
    form (None is returned) instead of becoming an error page. Not found and permission errors pass on."""
    try:
        return action()
    except (NotFoundError, PermissionDeniedError):
        raise
    except (ValidationError, ApplicationError) as exc:
        form_error_add(form, exc)
        return None


def form_ok(form: forms.BaseForm, action: Callable[[], object]) -> bool:
    """form_run for a service whose result the view does not need (None included): whether it succeeded."""

    def done() -> bool:
        action()
        return True

    return form_run(form, done) is not None


def form_status(request: HtmxHttpRequest) -> int:
    """The status of a page that shows a form again: 422 after a POST (it was refused), else 200."""
    return STATUS_INVALID if request.method == "POST" else 200


def redirect_htmx(request: HtmxHttpRequest, to: str) -> HttpResponse:
    """After a successful POST: htmx follows HX-Redirect with a full page load; a plain form gets a 302."""
    return HttpResponseClientRedirect(to) if request.htmx else redirect(to)


def user_of(request: HttpRequest | Request) -> User:
    """The signed-in user of a page or API request, typed as the User model (views behind login_required
    or IsAuthenticated; an anonymous request reaching here is refused with 403)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("Sign in first.")
    return user
