"""Export schedules in the browser (htmx): the list with each schedule's last run and latest snapshots; owners
and data scientists create, edit, enable or disable, delete and run them now."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from core.filtersets import filterset_rows
from core.htmx import HtmxHttpRequest, render_partial
from core.web import form_ok, form_run, form_status
from datasets.filtersets import ExportScheduleFilterSet
from datasets.forms import ExportScheduleForm
from datasets.models import ExportSchedule
from datasets.selectors import export_schedule_get, export_schedule_list
from datasets.services.schedules import (
    export_schedule_create,
    export_schedule_delete,
    export_schedule_run_now,
    export_schedule_update,
)
from projects.access import ProjectAccess
from projects.permissions import Action
from projects.web import project_view

LIST_TEMPLATE = "datasets/schedule_list.html"


def _edit_form(schedule: ExportSchedule, data: Any = None) -> ExportScheduleForm:
    initial = ExportScheduleForm.initial_from(schedule)
    return ExportScheduleForm(data, initial=initial, auto_id=f"id_schedule{schedule.pk}_%s")


def _page(
    request: HtmxHttpRequest,
    access: ProjectAccess,
    *,
    form: ExportScheduleForm | None = None,
    editing: ExportScheduleForm | None = None,
    editing_id: int | None = None,
    error: str = "",
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    project = access.project
    filterset = ExportScheduleFilterSet(request.GET or None, queryset=export_schedule_list(project=project))
    rows = [
        (schedule, editing if schedule.pk == editing_id and editing else _edit_form(schedule))
        for schedule in filterset_rows(filterset)
    ]
    context = {
        "project": project, "rows": rows, "form": form or ExportScheduleForm(), "editing_id": editing_id,
        "filter": filterset,
        "can_export": access.allows(Action.EXPORT), "error": error, "notice": notice,
    }  # fmt: skip
    return render_partial(request, LIST_TEMPLATE, context, partial="schedules", status=status)


def _done(request: HtmxHttpRequest, access: ProjectAccess, notice: str) -> HttpResponse:
    """htmx: the refreshed schedules region; otherwise back to the page (post/redirect/get)."""
    if request.htmx:
        return _page(request, access, notice=notice)
    messages.success(request, notice)
    return redirect("datasets:schedule-list", slug=access.project.slug)


@project_view(Action.OVERSEE)
@require_http_methods(["GET", "POST"])
def schedule_list(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    form = ExportScheduleForm(request.POST or None)
    if request.method == "POST":
        if not access.allows(Action.EXPORT):
            raise PermissionDenied("Only owners and data scientists schedule exports.")
        if form.is_valid():
            schedule = form_run(
                form,
                lambda: export_schedule_create(project=project, user=access.user, **form.schedule_fields()),
            )
            if schedule is not None:
                return _done(request, access, f"Scheduled '{schedule.name}'.")
    return _page(request, access, form=form, status=form_status(request))


@project_view(Action.EXPORT)
@require_POST
def schedule_update(request: HtmxHttpRequest, access: ProjectAccess, schedule_id: int) -> HttpResponse:
    """One form per action: `action` is edit (with the schedule's fields), enable, disable or delete."""
    project = access.project
    schedule = export_schedule_get(project=project, schedule_id=schedule_id)
    action = request.POST.get("action", "edit")
    if action == "delete":
        export_schedule_delete(schedule=schedule)
        return _done(request, access, f"Deleted '{schedule.name}'; the snapshots it made stay.")
    if action in ("enable", "disable"):
        export_schedule_update(schedule=schedule, enabled=action == "enable")
        return _done(request, access, f"{action.title()}d '{schedule.name}'.")
    if action != "edit":
        return HttpResponseBadRequest("Unknown action: edit, enable, disable or delete.")
    form = _edit_form(schedule, request.POST)
    if form.is_valid() and form_ok(
        form, lambda: export_schedule_update(schedule=schedule, **form.schedule_fields())
    ):
        return _done(request, access, f"Saved '{schedule.name}'.")
    return _page(request, access, editing=form, editing_id=schedule.pk, status=422)


@project_view(Action.EXPORT)
@require_POST
def schedule_run_now(request: HtmxHttpRequest, access: ProjectAccess, schedule_id: int) -> HttpResponse:
    project = access.project
    schedule = export_schedule_get(project=project, schedule_id=schedule_id)
    try:
        export_schedule_run_now(schedule=schedule)
    except ValidationError as exc:
        return _page(request, access, error=" ".join(exc.messages), status=422)
    return _done(request, access, f"Queued a run of '{schedule.name}'; it runs on a worker.")
