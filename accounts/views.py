"""My account (API tokens, password), the set-password page of new accounts, and the lockouts page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.messages.views import SuccessMessageMixin
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors
from accounts.filtersets import ApiTokenFilterSet
from accounts.forms import ApiTokenForm, LockoutLiftForm
from accounts.services import IssuedApiToken, api_token_create, api_token_revoke, lockout_lift
from core.filtersets import filterset_rows
from core.web import html_errors, user_of

MESSAGE_TOKEN_REVOKED = "Token revoked: it no longer works."
MESSAGE_PASSWORD_CHANGED = "Your password has been changed."
MESSAGE_PASSWORD_SET = "Your password is set: log in with it."
MESSAGE_LOCKOUT_LIFTED = "Lockout of {value} lifted."


@never_cache  # the page shows a new key once; no cache may keep it
@login_required
@require_http_methods(["GET", "POST"])
def account_detail(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    issued: IssuedApiToken | None = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = api_token_create(user=user_of(request), name=form.cleaned_data["name"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            form = ApiTokenForm()
    filterset = ApiTokenFilterSet(
        request.GET or None, queryset=selectors.api_token_list(user=user_of(request))
    )
    context = {
        "form": form, "issued": issued, "tokens": filterset_rows(filterset), "filter": filterset,
        "ttl_days": settings.API_TOKEN_TTL.days,
    }  # fmt: skip
    return render(request, "accounts/account_detail.html", context, status=422 if form.errors else 200)


@login_required
@require_POST
@html_errors
def api_token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    api_token_revoke(user=user_of(request), token_id=token_id)
    messages.success(request, MESSAGE_TOKEN_REVOKED)
    return redirect("accounts:account-detail")


class PasswordChangeView(SuccessMessageMixin, auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:account-detail")
    success_message = MESSAGE_PASSWORD_CHANGED


class SetPasswordView(SuccessMessageMixin, auth_views.PasswordResetConfirmView):
    """The one-time link an owner hands to a new member (Django's token generator, PASSWORD_RESET_TIMEOUT)."""

    template_name = "accounts/set_password.html"
    success_url = reverse_lazy("login")
    success_message = MESSAGE_PASSWORD_SET


@staff_member_required
@require_http_methods(["GET", "POST"])
def lockout_list(request: HttpRequest) -> HttpResponse:
    form = LockoutLiftForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        kind, value = form.cleaned_data["kind"], form.cleaned_data["value"]
        lockout_lift(**{kind: value})
        messages.success(request, MESSAGE_LOCKOUT_LIFTED.format(value=value))
        return redirect("accounts:lockout-list")
    context: dict[str, Any] = {"lockouts": selectors.lockout_list()}
    return render(request, "accounts/lockout_list.html", context)
