from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.views.decorators.http import require_http_methods

from core.exceptions import ApplicationError
from core.filtersets import filterset_rows
from core.htmx import HtmxHttpRequest, render_partial
from core.web import form_error_add, form_status, redirect_htmx
from imports.filtersets import ImportJobFilterSet
from imports.forms import ImportForm
from imports.parsing.errors import ImportTooLargeError
from imports.selectors import (
    import_job_evaluation_labels,
    import_job_get,
    import_job_list,
    import_job_progress,
)
from imports.services.jobs import import_job_create_or_join, import_options_build, import_request_size_check
from projects.access import ProjectAccess
from projects.models import Project
from projects.permissions import Action
from projects.web import project_view

MESSAGE_UNDER_WAY = "The same file is already being imported, as import #{id}: here it is."


@project_view(Action.IMPORT)
@require_http_methods(["GET", "POST"])
def import_list(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    if request.method == "POST":
        try:
            import_request_size_check(content_length=request.META.get("CONTENT_LENGTH"))
        except ImportTooLargeError as exc:  # answered before the body is parsed, from its declared length
            return _import_list_refused(request, project, exc)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            started = import_job_create_or_join(
                project=project, created_by=access.user, upload=form.cleaned_data["file"],
                options=import_options_build(**form.import_fields()),
            )  # fmt: skip
        except ImportTooLargeError as exc:
            return _import_list_refused(request, project, exc)
        except (ValidationError, ApplicationError) as exc:
            form_error_add(form, exc)
        else:
            if not started.created:
                messages.info(request, MESSAGE_UNDER_WAY.format(id=started.job.pk))
            return redirect_htmx(request, f"{project.get_absolute_url()}imports/{started.job.pk}/")
    context = {"project": project, "form": form, **_recent_imports(request, project)}
    return render_partial(
        request, "imports/import_list.html", context, partial=_import_list_partial(request),
        status=form_status(request),
    )  # fmt: skip


def _recent_imports(request: HtmxHttpRequest, project: Project) -> dict[str, Any]:
    """The newest 50 imports the query string asks for, and the filter that chose them."""
    filterset = ImportJobFilterSet(request.GET or None, queryset=import_job_list(project=project))
    return {"filter": filterset, "jobs": filterset_rows(filterset)[:50]}


def _import_list_partial(request: HtmxHttpRequest) -> str:
    """The filter form asks for the recent imports; the upload form is answered with itself."""
    return "jobs" if request.method == "GET" else "upload-form"


def _import_list_refused(
    request: HtmxHttpRequest, project: Project, exc: ImportTooLargeError
) -> HttpResponse:
    """The import page with a fresh form that says why the upload was refused (413 Content Too Large)."""
    form = ImportForm()
    form.full_clean()  # an unbound form: no field errors, only the one added below
    form.cleaned_data = {}
    form_error_add(form, exc)
    context = {"project": project, "form": form, **_recent_imports(request, project)}
    return render_partial(request, "imports/import_list.html", context, partial="upload-form", status=413)


@project_view(Action.IMPORT)
def import_detail(request: HtmxHttpRequest, access: ProjectAccess, job_id: int) -> HttpResponse:
    project = access.project
    job = import_job_get(project=project, job_id=job_id)
    context = {
        "project": project, "job": job, "progress": import_job_progress(job=job),
        "evaluation_labels": import_job_evaluation_labels(job=job),
    }  # fmt: skip
    return render_partial(request, "imports/import_detail.html", context, partial="progress")
