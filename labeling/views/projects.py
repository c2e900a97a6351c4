from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from core.htmx import HtmxHttpRequest, render_partial
from labeling import selectors
from labeling.filtersets import ItemFilterSet
from labeling.forms import ImportForm, MembershipForm, MembershipRoleForm, ProjectForm, ProjectSettingsForm
from labeling.models import Project
from labeling.permissions import Action, role_allows
from labeling.selectors.activity import (
    analyst_summary_list,
    interaction_event_list_for_user,
    project_progress,
)
from labeling.services.imports import import_job_create, import_options_build
from labeling.services.members import membership_add, membership_remove, membership_set_role
from labeling.services.projects import label_specs_from_keys, project_create, project_update
from weak_supervision.selectors import latest_run, weak_labels_get

ProjectView = Callable[..., HttpResponse]


def project_view(action: Action = Action.VIEW) -> Callable[[ProjectView], ProjectView]:
    """Resolves `slug` to a permission-checked project (the same selector as the API) and passes it on."""

    def decorator(view: ProjectView) -> ProjectView:
        @login_required
        @wraps(view)
        def wrapper(request: HtmxHttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                project = selectors.project_get_for_user(user=request.user, slug=slug, action=action)
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


@login_required
@require_http_methods(["GET", "POST"])
def project_list(request: HtmxHttpRequest) -> HttpResponse:
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            project = project_create(
                name=data["name"], slug=data["slug"], labels=label_specs_from_keys(data["labels"]),
                multi_label=data["multi_label"], overlap=data["overlap"], description=data["description"],
                instructions=data["instructions"], created_by=request.user,  # type: ignore[arg-type]
            )  # fmt: skip
        except ValidationError as exc:
            add_error(form, exc)
        else:
            return (
                HttpResponseClientRedirect(project.get_absolute_url()) if request.htmx else redirect(project)
            )
    projects = selectors.project_list_for_user(user=request.user).prefetch_related("labels")
    status = 422 if request.method == "POST" else 200
    return render_partial(request, "labeling/project_list.html", {"projects": projects, "form": form},
                          partial="create-form", status=status)  # fmt: skip


@project_view()
def project_detail(request: HtmxHttpRequest, project: Project) -> HttpResponse:
    summaries = analyst_summary_list(project=project, viewer=request.user)
    context = {
        "project": project,
        "stats": selectors.project_stats(project=project, user=request.user),
        "progress": project_progress(project=project, user=request.user),
        "my_summary": next((row for row in summaries if row.user_id == request.user.pk), None),
        "summaries": summaries if _can(project, Action.SEE_OTHERS_ANSWERS) else [],
        "can_import": _can(project, Action.IMPORT),
        "can_manage": _can(project, Action.MANAGE_MEMBERS),
    }
    return render(request, "labeling/project_detail.html", context)


@project_view(Action.EDIT_PROJECT)
@require_http_methods(["GET", "POST"])
def project_settings(request: HtmxHttpRequest, project: Project) -> HttpResponse:
    fields = list(ProjectSettingsForm.base_fields)
    form = ProjectSettingsForm(
        request.POST or None, initial={name: getattr(project, name) for name in fields}
    )
    if request.method == "POST" and form.is_valid():
        try:
            project_update(project=project, **form.cleaned_data)
        except ValidationError as exc:
            add_error(form, exc)
        else:
            messages.success(request, "Settings saved.")
            return HttpResponseClientRedirect(request.path) if request.htmx else redirect(request.path)
    status = 422 if request.method == "POST" else 200
    return render_partial(request, "labeling/project_settings.html", {"project": project, "form": form},
                          partial="settings-form", status=status)  # fmt: skip


@project_view()
def item_list(request: HtmxHttpRequest, project: Project) -> HttpResponse:
    filterset = ItemFilterSet(request.GET or None, queryset=selectors.item_list(project=project))
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"project": project, "filter": filterset, "page": page, "query": query.urlencode()}
    return render_partial(request, "labeling/item_list.html", context, partial="rows")


@project_view()
def item_detail(request: HtmxHttpRequest, project: Project, item_id: int) -> HttpResponse:
    try:
        item = selectors.item_get(project=project, item_id=item_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    context = {
        "project": project,
        "item": item,
        "annotations": selectors.item_annotations_for_user(project=project, item=item, user=request.user),
        "flags": selectors.item_flags_for_user(project=project, item=item, user=request.user),
        "events": interaction_event_list_for_user(project=project, user=request.user).filter(item=item),
        "blind": not _can(project, Action.SEE_OTHERS_ANSWERS),
        **_weak_label_context(project, item.pk),
    }
    return render(request, "labeling/item_detail.html", context)


def _weak_label_context(project: Project, item_id: int) -> dict[str, Any]:
    if not _can(project, Action.SEE_MODEL_OUTPUTS):
        return {"weak_run": None, "weak_label": None}
    run = latest_run(project=project)
    answer = weak_labels_get(run=run, item_ids=[item_id]).get(item_id) if run else None
    return {"weak_run": run, "weak_label": answer}


@project_view(Action.IMPORT)
@require_http_methods(["GET", "POST"])
def import_list(request: HtmxHttpRequest, project: Project) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = import_job_create(
                project=project, created_by=request.user, upload=form.cleaned_data["file"],  # type: ignore[arg-type]
                options=import_options_build(**form.import_fields()),
            )  # fmt: skip
        except (ValidationError, ApplicationError) as exc:
            add_error(form, exc)
        else:
            url = f"{project.get_absolute_url()}imports/{job.pk}/"
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    context = {"project": project, "form": form, "jobs": selectors.import_job_list(project=project)[:50]}
    status = 422 if request.method == "POST" else 200
    return render_partial(request, "labeling/import_list.html", context, partial="upload-form", status=status)


@project_view(Action.IMPORT)
def import_detail(request: HtmxHttpRequest, project: Project, job_id: int) -> HttpResponse:
    try:
        job = selectors.import_job_get(project=project, job_id=job_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    context = {"project": project, "job": job, "progress": selectors.import_job_progress(job=job)}
    return render_partial(request, "labeling/import_detail.html", context, partial="progress")


@project_view()
@require_http_methods(["GET", "POST"])
def member_list(request: HtmxHttpRequest, project: Project) -> HttpResponse:
    can_manage = _can(project, Action.MANAGE_MEMBERS)
    form = MembershipForm(request.POST or None)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                membership_add(project=project, **form.cleaned_data)
            except ValidationError as exc:
                add_error(form, exc)
            else:
                form = MembershipForm()
    context = {
        "project": project, "form": form, "can_manage": can_manage,
        "memberships": selectors.membership_list_for_user(project=project, user=request.user),
        "role_form": MembershipRoleForm(),
    }  # fmt: skip
    status = 422 if form.errors else 200
    return render_partial(request, "labeling/member_list.html", context, partial="members", status=status)


@project_view(Action.MANAGE_MEMBERS)
@require_POST
def member_update(request: HtmxHttpRequest, project: Project, user_id: int) -> HttpResponse:
    try:
        membership = selectors.membership_get(project=project, user_id=user_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    form = MembershipRoleForm(request.POST)
    error = ""
    try:
        if request.POST.get("remove"):
            membership_remove(membership=membership)
        elif form.is_valid():
            membership_set_role(membership=membership, role=form.cleaned_data["role"])
    except ValidationError as exc:
        error = exc.messages[0]
    context = {
        "project": project, "form": MembershipForm(), "can_manage": True, "error": error,
        "memberships": selectors.membership_list(project=project), "role_form": MembershipRoleForm(),
    }  # fmt: skip
    return render_partial(request, "labeling/member_list.html", context, partial="members",
                          status=422 if error else 200)  # fmt: skip
