from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.selectors import lockout_list
from accounts.services import lockout_lift, set_password_link_create
from core.filtersets import filterset_rows
from core.htmx import HtmxHttpRequest, render_partial
from core.web import form_ok, form_run, form_status, redirect_htmx, user_of
from projects.access import ProjectAccess
from projects.filtersets import MembershipFilterSet, ProjectFilterSet
from projects.forms import (
    LabelAddForm,
    LabelEditForm,
    LabelMergeForm,
    MemberAccountForm,
    MembershipForm,
    MembershipRoleForm,
    ProjectForm,
    ProjectSettingsForm,
)
from projects.models import Label, Project
from projects.permissions import Action
from projects.selectors import label_history, membership_get, membership_list_for_user, project_list_for_user
from projects.services.label_schema import (
    LabelEdit,
    label_add,
    label_edit,
    label_merge,
    label_restore,
    label_retire,
)
from projects.services.members import (
    membership_add,
    membership_create_with_account,
    membership_remove,
    membership_set_role,
)
from projects.services.projects import label_specs_from_keys, project_create, project_update
from projects.web import project_view

MESSAGE_LOCKOUT_LIFTED = "Lockout of {username} lifted: they can log in again."


@login_required
@require_http_methods(["GET", "POST"])
def project_list(request: HtmxHttpRequest) -> HttpResponse:
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        project = form_run(form, lambda: project_create(
            name=data["name"], slug=data["slug"], labels=label_specs_from_keys(data["labels"]),
            multi_label=data["multi_label"], kind=data["kind"], overlap=data["overlap"],
            allow_overlapping_spans=data["allow_overlapping_spans"], description=data["description"],
            instructions=data["instructions"], created_by=user_of(request),
        ))  # fmt: skip
        if project is not None:
            return redirect_htmx(request, project.get_absolute_url())
    filterset = ProjectFilterSet(request.GET or None, queryset=project_list_for_user(user=request.user))
    projects = filterset_rows(filterset).prefetch_related("labels")
    context = {"projects": projects, "form": form, "filter": filterset}
    return render_partial(request, "projects/project_list.html", context,
                          partial="create-form", status=form_status(request))  # fmt: skip


@project_view(Action.EDIT_PROJECT)
@require_http_methods(["GET", "POST"])
def project_settings(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    fields = list(ProjectSettingsForm.base_fields)
    form = ProjectSettingsForm(
        request.POST or None, initial={name: getattr(project, name) for name in fields}
    )
    if (
        request.method == "POST"
        and form.is_valid()
        and form_ok(form, lambda: project_update(project=project, **form.cleaned_data))
    ):
        messages.success(request, "Settings saved.")
        return redirect_htmx(request, request.path)
    context = {"project": project, "form": form, **_labels_context(project)}
    return render_partial(request, "projects/project_settings.html", context,
                          partial="settings-form", status=form_status(request))  # fmt: skip


# --- the label schema, on the Settings page ----------------------------------------------------------------


def _labels_context(project: Project, **extra: Any) -> dict[str, Any]:
    return {
        "project": project, "schema_labels": list(Label.objects.filter(project=project).order_by("order", "id")),
        "label_history": list(label_history(project=project)[:50]), "add_form": LabelAddForm(), **extra,
    }  # fmt: skip


def _labels_region(
    request: HtmxHttpRequest, project: Project, *, error: str = "", **extra: Any
) -> HttpResponse:
    """The labels region again: after a change (200), or with the refusal's message (422)."""
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect_htmx(request, reverse("projects:project-settings", args=[project.slug]))
    context = _labels_context(project, label_error=error, **extra)
    return render_partial(request, "projects/project_settings.html", context, partial="labels",
                          status=422 if error else 200)  # fmt: skip


def _schema_change(request: HtmxHttpRequest, project: Project, change: Callable[[], object]) -> HttpResponse:
    try:
        change()
    except ValidationError as exc:
        return _labels_region(request, project, error=" ".join(exc.messages))
    return _labels_region(request, project)


def _form_message(form: forms.Form) -> str:
    return "; ".join(f"{name}: {error}" for name, errors in form.errors.items() for error in errors)


@project_view(Action.EDIT_PROJECT)
@require_POST
def label_add_view(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    form = LabelAddForm(request.POST)
    if not form.is_valid():
        return _labels_region(request, access.project, error=_form_message(form))
    data = form.cleaned_data
    return _schema_change(request, access.project, lambda: label_add(
        project=access.project, key=data["key"], name=data["name"], hotkey=data["hotkey"], color=data["color"],
        changed_by=access.user,
    ))  # fmt: skip


@project_view(Action.EDIT_PROJECT)
@require_POST
def label_edit_view(request: HtmxHttpRequest, access: ProjectAccess, key: str) -> HttpResponse:
    form = LabelEditForm(request.POST)
    if not form.is_valid():
        return _labels_region(request, access.project, error=_form_message(form))
    edit = LabelEdit(**form.cleaned_data)
    return _schema_change(
        request,
        access.project,
        lambda: label_edit(project=access.project, key=key, edit=edit, changed_by=access.user),
    )


@project_view(Action.EDIT_PROJECT)
@require_POST
def label_retire_view(request: HtmxHttpRequest, access: ProjectAccess, key: str) -> HttpResponse:
    retire = request.POST.get("retired", "1") != "0"
    service = label_retire if retire else label_restore
    return _schema_change(
        request, access.project, lambda: service(project=access.project, key=key, changed_by=access.user)
    )


@project_view(Action.EDIT_PROJECT)
@require_POST
def label_merge_view(request: HtmxHttpRequest, access: ProjectAccess, key: str) -> HttpResponse:
    form = LabelMergeForm(request.POST)
    if not form.is_valid():
        return _labels_region(request, access.project, error=_form_message(form))
    into = form.cleaned_data["into"]
    try:
        change = label_merge(project=access.project, key=key, into=into, changed_by=access.user)
    except ValidationError as exc:
        return _labels_region(request, access.project, error=" ".join(exc.messages))
    return _labels_region(request, access.project, merged=change)


def _members_page(
    request: HtmxHttpRequest, access: ProjectAccess, *, status: int = 200, **extra: Any
) -> HttpResponse:
    """The members region; for owners also whose logins are locked out and who has no password yet."""
    can_manage = access.allows(Action.MANAGE_MEMBERS)
    filterset = MembershipFilterSet(request.GET or None, queryset=membership_list_for_user(access=access))
    memberships = list(filterset_rows(filterset))
    context = {
        "project": access.project, "can_manage": can_manage, "memberships": memberships, "filter": filterset,
        "role_form": MembershipRoleForm(), "form": MembershipForm(),
        "account_form": MemberAccountForm(prefix="account"),
        "locked_out": set(), "pending": set(), "link_hours": settings.PASSWORD_RESET_TIMEOUT // 3600, **extra,
    }  # fmt: skip
    if can_manage:
        usernames = [m.user.username for m in memberships]
        context["locked_out"] = {lockout.value for lockout in lockout_list(usernames=usernames)}
        context["pending"] = {
            m.user_id for m in memberships if not m.user.has_usable_password() and m.user.last_login is None
        }
    return render_partial(request, "projects/member_list.html", context, partial="members", status=status)


@project_view()
@require_http_methods(["GET", "POST"])
def member_list(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    form = MembershipForm(request.POST or None)
    if request.method == "POST":
        if not access.allows(Action.MANAGE_MEMBERS):
            raise PermissionDenied
        if form.is_valid() and form_ok(
            form, lambda: membership_add(project=access.project, **form.cleaned_data)
        ):
            form = MembershipForm()
    return _members_page(request, access, form=form, status=422 if form.errors else 200)


@project_view(Action.MANAGE_MEMBERS)
@require_POST
def member_account_create(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    """An owner creates an account and is shown its one-time set-password link to hand over."""
    form = MemberAccountForm(request.POST, prefix="account")
    if form.is_valid():
        membership = form_run(
            form, lambda: membership_create_with_account(project=access.project, **form.cleaned_data)
        )
        if membership is not None:
            link = request.build_absolute_uri(set_password_link_create(user=membership.user))
            return _members_page(request, access, set_password_link=link, link_user=membership.user)
    return _members_page(request, access, account_form=form, status=422)


@project_view(Action.MANAGE_MEMBERS)
@require_POST
def member_set_password_link(request: HtmxHttpRequest, access: ProjectAccess, user_id: int) -> HttpResponse:
    """A new set-password link for a member who has not set a password yet (the old one stays valid)."""
    membership = membership_get(project=access.project, user_id=user_id)
    try:
        link = request.build_absolute_uri(set_password_link_create(user=membership.user))
    except ValidationError as exc:
        return _members_page(request, access, error=exc.messages[0], status=422)
    return _members_page(request, access, set_password_link=link, link_user=membership.user)


@project_view(Action.MANAGE_MEMBERS)
@require_POST
def member_lockout_lift(request: HtmxHttpRequest, access: ProjectAccess, user_id: int) -> HttpResponse:
    """Lifts the login lockout of a member's username (an address's lockout is lifted by an admin)."""
    membership = membership_get(project=access.project, user_id=user_id)
    lockout_lift(username=membership.user.username)
    notice = MESSAGE_LOCKOUT_LIFTED.format(username=membership.user.username)
    return _members_page(request, access, notice=notice)


@project_view(Action.MANAGE_MEMBERS)
@require_POST
def member_update(request: HtmxHttpRequest, access: ProjectAccess, user_id: int) -> HttpResponse:
    membership = membership_get(project=access.project, user_id=user_id)
    form = MembershipRoleForm(request.POST)
    error = ""
    try:
        if request.POST.get("remove"):
            membership_remove(membership=membership)
        elif form.is_valid():
            membership_set_role(membership=membership, role=form.cleaned_data["role"])
    except ValidationError as exc:
        error = exc.messages[0]
    return _members_page(request, access, error=error, status=422 if error else 200)
