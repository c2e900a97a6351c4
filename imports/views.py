from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from core.exceptions import ApplicationError, NotFoundError
from core.htmx import HtmxHttpRequest, render_partial
from imports.forms import ImportForm
from imports.parsing.errors import ImportTooLargeError
from imports.selectors import import_job_get, import_job_list, import_job_progress
from imports.services.jobs import import_job_create, import_options_build, import_request_size_check
from projects.models import Project
from projects.permissions import Action
from projects.web import add_error, project_view


@project_view(Action.IMPORT)
@require_http_methods(["GET", "POST"])
def import_list(request: HtmxHttpRequest, project: Project) -> HttpResponse:
    if request.method == "POST":
        try:
            import_request_size_check(content_length=request.META.get("CONTENT_LENGTH"))
        except ImportTooLargeError as exc:  # answered before the body is parsed, from its declared length
            return _import_list_refused(request, project, exc)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = import_job_create(
                project=project, created_by=request.user, upload=form.cleaned_data["file"],  # type: ignore[arg-type]
                options=import_options_build(**form.import_fields()),
            )  # fmt: skip
        except ImportTooLargeError as exc:
            return _import_list_refused(request, project, exc)
        except (ValidationError, ApplicationError) as exc:
            add_error(form, exc)
        else:
            url = f"{project.get_absolute_url()}imports/{job.pk}/"
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    context = {"project": project, "form": form, "jobs": import_job_list(project=project)[:50]}
    status = 422 if request.method == "POST" else 200
    return render_partial(request, "imports/import_list.html", context, partial="upload-form", status=status)


def _import_list_refused(
    request: HtmxHttpRequest, project: Project, exc: ImportTooLargeError
) -> HttpResponse:
    """The import page with a fresh form that says why the upload was refused (413 Content Too Large)."""
    form = ImportForm()
    form.full_clean()  # an unbound form: no field errors, only the one added below
    form.cleaned_data = {}
    add_error(form, exc)
    context = {"project": project, "form": form, "jobs": import_job_list(project=project)[:50]}
    return render_partial(request, "imports/import_list.html", context, partial="upload-form", status=413)


@project_view(Action.IMPORT)
def import_detail(request: HtmxHttpRequest, project: Project, job_id: int) -> HttpResponse:
    try:
        job = import_job_get(project=project, job_id=job_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    context = {"project": project, "job": job, "progress": import_job_progress(job=job)}
    return render_partial(request, "imports/import_detail.html", context, partial="progress")
