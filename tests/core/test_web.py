"""core.web, the HTML front door: domain errors to 404/403, a service's refusal onto the form with 422,
the htmx-aware redirect, and the typed signed-in user."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from core.htmx import HtmxHttpRequest
from core.web import form_ok, form_run, form_status, html_errors, redirect_htmx, user_of
from tests.projects.factories import UserFactory


class _Form(forms.Form):
    name = forms.CharField()


def _request(method: str = "get", *, htmx: bool = False) -> HtmxHttpRequest:
    headers = {"HX-Request": "true"} if htmx else {}
    request = getattr(RequestFactory(), method)("/", headers=headers)
    from django_htmx.middleware import HtmxDetails

    request.htmx = HtmxDetails(request)
    return request  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("error", "mapped"),
    [(NotFoundError("No such run."), Http404), (PermissionDeniedError(), PermissionDenied)],
)
def test_html_errors_maps_not_found_to_404_and_permission_to_403(
    error: ApplicationError, mapped: type[Exception]
) -> None:
    # given a view that raises a domain error
    @html_errors
    def view(request: HtmxHttpRequest) -> HttpResponse:
        raise error

    # when / then Django's 404 and 403 come out, with the message
    with pytest.raises(mapped, match=error.message.rstrip(".")):
        view(_request())


def test_form_run_puts_a_services_refusal_on_the_form_and_returns_none() -> None:
    # given a valid form and services that refuse in both ways, or succeed
    form = _Form({"name": "x"})
    assert form.is_valid()

    def refuse_validation() -> int:
        raise ValidationError("Slug taken.", code="slug_taken")

    def refuse_application() -> int:
        raise ApplicationError("Too late.")

    # when
    first = form_run(form, refuse_validation)
    second = form_run(form, refuse_application)
    third = form_run(form, lambda: 7)

    # then both refusals are on the form, the success returns the service's value
    assert (first, second, third) == (None, None, 7)
    assert form.non_field_errors() == ["Slug taken.", "Too late."]


def test_form_ok_tells_success_even_for_a_service_returning_none_and_lets_404_pass() -> None:
    # given
    form = _Form({"name": "x"})
    assert form.is_valid()

    def missing() -> None:
        raise NotFoundError("Gone.")

    # when / then
    assert form_ok(form, lambda: None) is True
    with pytest.raises(NotFoundError):
        form_ok(form, missing)
    assert form.errors == {}


def test_form_status_is_422_after_a_post_and_200_otherwise() -> None:
    assert (form_status(_request("post")), form_status(_request("get"))) == (422, 200)


def test_redirect_htmx_sends_hx_redirect_to_htmx_and_a_302_to_a_plain_form() -> None:
    # when
    htmx = redirect_htmx(_request("post", htmx=True), "/projects/x/")
    plain = redirect_htmx(_request("post"), "/projects/x/")

    # then
    assert (htmx.status_code, htmx["HX-Redirect"]) == (200, "/projects/x/")
    assert (plain.status_code, plain["Location"]) == (302, "/projects/x/")


@pytest.mark.django_db
def test_user_of_is_the_signed_in_user_and_refuses_an_anonymous_request() -> None:
    # given
    request = _request()
    request.user = UserFactory(username="ana")
    anonymous = _request()
    anonymous.user = AnonymousUser()

    # when / then
    assert user_of(request).username == "ana"
    with pytest.raises(PermissionDenied):
        user_of(anonymous)
