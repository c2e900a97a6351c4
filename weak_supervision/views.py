"""Labeling functions and runs in the browser (htmx): list, write with a live preview, version, run."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from core.filtersets import filterset_rows
from core.htmx import HtmxHttpRequest, render_partial
from core.web import form_run, form_status, redirect_htmx
from projects.access import ProjectAccess
from projects.models import Project
from projects.permissions import Action
from projects.web import project_view
from weak_supervision import selectors
from weak_supervision.charts import lf_bar_chart
from weak_supervision.filtersets import LabelingFunctionFilterSet, LabelModelRunFilterSet
from weak_supervision.forms import LabelingFunctionForm
from weak_supervision.hooks import LfEstimates, lf_estimates
from weak_supervision.lf_suggestions import labeling_function_suggestions as suggest
from weak_supervision.sandbox import python_lfs_unavailable
from weak_supervision.services.functions import (
    labeling_function_accept_suggestion,
    labeling_function_create,
    labeling_function_update,
)
from weak_supervision.services.runs import run_start_or_join

MESSAGE_RUN_UNDER_WAY = "Run #{number} is already under way: here it is."
SORTABLE = {
    "name", "coverage", "overlaps", "conflicts", "empirical_accuracy", "estimated_accuracy", "correct", "incorrect",
}  # fmt: skip


def _require(access: ProjectAccess, action: Action) -> None:
    """The same role table as the page decorators and the API: 403 for a member whose role may not."""
    if not access.allows(action):
        raise PermissionDenied("Only owners and data scientists write labeling functions and start runs.")


def _label_keys(project: Project) -> list[str]:
    return list(project.labels.values_list("key", flat=True))


def _with_estimates(rows: list[dict[str, Any]], estimates: LfEstimates | None) -> list[dict[str, Any]]:
    """Each LF's analysis row with the accuracy truth inference estimates for it (hooks.lf_estimates)."""
    if estimates is None:
        return rows
    out = []
    for row in rows:
        estimate = estimates.by_lf.get(row.get("lf", 0))
        accuracy, interval = (estimate.accuracy, estimate.interval) if estimate is not None else (None, None)
        out.append({**row, "estimated_accuracy": accuracy, "estimated_interval": interval})
    return out


def _sorted(rows: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    """By the column `sort` names ("-" first: descending); rows without a figure come last either way."""
    key = sort.lstrip("-") if sort.lstrip("-") in SORTABLE else "name"
    known = [row for row in rows if row.get(key) is not None]
    ordered = sorted(known, key=lambda row: row[key], reverse=sort.startswith("-"))
    return ordered + [row for row in rows if row.get(key) is None]


def _latest_analysis(project: Project) -> dict[int, dict[str, Any]]:
    run = selectors.run_list(project=project).filter(status="succeeded").first()
    return {row["lf"]: row for row in run.lf_analysis} if run else {}


@project_view(Action.SEE_MODEL_OUTPUTS)
def labeling_function_list(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    analysis = _latest_analysis(project)
    filterset = LabelingFunctionFilterSet(
        request.GET or None, queryset=selectors.labeling_function_list(project=project)
    )
    lfs = [(lf, analysis.get(lf.pk)) for lf in filterset_rows(filterset)]
    context = {
        "project": project, "lfs": lfs, "filter": filterset, "python_lfs_unavailable": python_lfs_unavailable()
    }  # fmt: skip
    return render(request, "weak_supervision/lf_list.html", context)


def _save(access: ProjectAccess, form: LabelingFunctionForm, lf: Any) -> Any:
    project, data, user = access.project, form.cleaned_data, access.user
    if lf is None:
        return labeling_function_create(
            project=project,
            user=user,
            name=data["name"],
            kind=data["kind"],
            label=data["label"],
            spec=form.spec(),
            description=data["description"],
        )
    return labeling_function_update(
        lf=lf, user=user, label=data["label"], spec=form.spec(), description=data["description"]
    )


def _editor(request: HtmxHttpRequest, access: ProjectAccess, lf: Any) -> HttpResponse:
    project = access.project
    initial = LabelingFunctionForm.initial_from(lf) if lf else None
    form = LabelingFunctionForm(
        request.POST or None, initial=initial, label_keys=_label_keys(project), spans=project.is_spans
    )
    if lf is not None:
        form.fields["name"].disabled = form.fields["kind"].disabled = True
    if request.method == "POST" and form.is_valid():
        saved = form_run(form, lambda: _save(access, form, lf))
        if saved is not None:
            messages.success(request, f"Saved {saved.name} (version {saved.current_version.number}).")
            return redirect_htmx(request, f"/projects/{project.slug}/labeling-functions/{saved.pk}/")
    versions = lf.versions.select_related("created_by").order_by("-number") if lf else []
    context = {
        "project": project,
        "form": form,
        "lf": lf,
        "versions": versions,
        "python_lfs_unavailable": python_lfs_unavailable(),
    }
    return render_partial(
        request, "weak_supervision/lf_edit.html", context, partial="editor", status=form_status(request)
    )


@project_view(Action.WRITE_LFS)
@require_http_methods(["GET", "POST"])
def labeling_function_new(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    return _editor(request, access, None)


@project_view(Action.SEE_MODEL_OUTPUTS)
@require_http_methods(["GET", "POST"])
def labeling_function_detail(request: HtmxHttpRequest, access: ProjectAccess, lf_id: int) -> HttpResponse:
    project = access.project
    lf = selectors.labeling_function_get(project=project, lf_id=lf_id)
    if request.method == "POST":
        _require(access, Action.WRITE_LFS)
    return _editor(request, access, lf)


@require_POST
@project_view(Action.WRITE_LFS)
def labeling_function_toggle(request: HtmxHttpRequest, access: ProjectAccess, lf_id: int) -> HttpResponse:
    project = access.project
    lf = selectors.labeling_function_get(project=project, lf_id=lf_id)
    labeling_function_update(lf=lf, user=access.user, active=not lf.active)
    return redirect_htmx(request, f"/projects/{project.slug}/labeling-functions/")


def _highlighted(matches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for match in matches:
        text, start, end = match["text"], match["start"], match["end"]
        parts = (text[:start], text[start:end], text[end:]) if start is not None else (text, "", "")
        rows.append({**match, "before": parts[0][-200:], "hit": parts[1], "after": parts[2][:200]})
    return rows


@require_POST
@project_view(Action.WRITE_LFS)
def labeling_function_preview(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    form = LabelingFunctionForm(request.POST, label_keys=_label_keys(project), spans=project.is_spans)
    form.fields["name"].required = False
    context: dict[str, Any] = {"project": project}
    if not form.is_valid():
        context["error"] = "; ".join(str(e) for errors in form.errors.values() for e in errors)
    elif project.is_spans:
        try:
            context["span_preview"] = selectors.span_labeling_function_preview(
                project=project,
                kind=form.cleaned_data["kind"],
                spec=form.spec(),
                label=form.cleaned_data["label"],
            )
        except ValidationError as exc:
            context["error"] = " ".join(exc.messages)
    else:
        try:
            exclude = int(request.POST.get("lf_id") or 0) or None
            preview = selectors.labeling_function_preview(
                project=project,
                kind=form.cleaned_data["kind"],
                spec=form.spec(),
                label=form.cleaned_data["label"],
                exclude_id=exclude,
            )
            context["preview"] = {**preview, "matches": _highlighted(preview.get("matches", []))}
        except ValidationError as exc:
            context["error"] = " ".join(exc.messages)
    return render(request, "weak_supervision/lf_edit.html#preview", context)


@project_view(Action.SEE_MODEL_OUTPUTS)
@require_http_methods(["GET", "POST"])
def run_list(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    error = ""
    if request.method == "POST":
        _require(access, Action.WRITE_LFS)
        try:
            started = run_start_or_join(project=project, user=access.user)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            if not started.created:
                messages.info(request, MESSAGE_RUN_UNDER_WAY.format(number=started.job.number))
            return redirect_htmx(request, f"/projects/{project.slug}/runs/{started.job.number}/")
    filterset = LabelModelRunFilterSet(request.GET or None, queryset=selectors.run_list(project=project))
    runs = list(filterset_rows(filterset).select_related("created_by")[:50])
    context = {"project": project, "runs": runs, "error": error, "filter": filterset}
    return render_partial(
        request, "weak_supervision/run_list.html", context, partial="runs", status=422 if error else 200
    )


@project_view(Action.SEE_MODEL_OUTPUTS)
def run_detail(request: HtmxHttpRequest, access: ProjectAccess, number: int) -> HttpResponse:
    project = access.project
    run = selectors.run_get(project=project, number=number)
    estimates = lf_estimates(project)
    sort = request.GET.get("sort", "name")
    rows = _sorted(_with_estimates(run.lf_analysis, estimates), sort)
    context = {
        "project": project,
        "run": run,
        "progress": selectors.run_progress(run=run),
        "rows": rows,
        "sort": sort,
        # The latest truth-inference run whose estimates stand beside the empirical accuracies (None: none yet).
        "inference_run": estimates.run_number if estimates is not None else None,
        "chart": lf_bar_chart(run.lf_analysis) if run.lf_analysis else "",
        "aggregators": selectors.run_aggregator_rows(run=run),
        # LF errors and tracebacks: only for those who may edit the LFs.
        "may_see_errors": access.allows(Action.WRITE_LFS),
    }
    partial = "table" if request.GET.get("sort") else "status"
    return render_partial(request, "weak_supervision/run_detail.html", context, partial=partial)


@project_view(Action.WRITE_LFS)
def labeling_function_suggestions(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    suggestions = suggest(project=project)
    return render(
        request, "weak_supervision/lf_list.html#suggestions", {"project": project, "suggestions": suggestions}
    )


@require_POST
@project_view(Action.WRITE_LFS)
def labeling_function_suggestion_accept(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    phrase, label = request.POST.get("phrase", ""), request.POST.get("label", "")
    try:
        lf = labeling_function_accept_suggestion(
            project=project, user=access.user, phrase=phrase, label=label
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Added {lf.name}: it votes {label} on items containing '{phrase}'.")
    return redirect_htmx(request, f"/projects/{project.slug}/labeling-functions/")
