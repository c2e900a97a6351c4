"""Dataset snapshots in the browser: the list with the "make a snapshot" form, a version's manifest, file
downloads, the diff between two versions, and the row a pending snapshot polls until it is built."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods

from core.exceptions import NotFoundError
from core.filtersets import filterset_rows
from core.htmx import HtmxHttpRequest, render_partial
from core.jobs import Started
from core.markdown import render_markdown
from core.web import form_run, form_status, redirect_htmx
from datasets import selectors
from datasets.choices import SnapshotStatus, Trigger
from datasets.filtersets import SnapshotFilterSet
from datasets.forms import SnapshotCompareForm, SnapshotCreateForm
from datasets.models import Snapshot
from datasets.services.snapshots import snapshot_create_or_join
from projects.access import ProjectAccess
from projects.models import Project
from projects.permissions import Action
from projects.web import project_view

LIST_TEMPLATE = "datasets/snapshot_list.html"
MESSAGE_UNDER_WAY = (
    "Snapshot {label} of the same data is already being built; its row updates when it is done."
)
ERROR_COMPARE = "Choose two versions to compare: ?old=1&new=2."


def snapshot_file_response(*, snapshot: Snapshot, name: str) -> FileResponse:
    """One of the snapshot's files (or its manifest.json) as a streamed attachment named by its base name."""
    handle = selectors.snapshot_file_open(snapshot=snapshot, name=name)
    return FileResponse(handle, as_attachment=True, filename=PurePosixPath(name).name)


def _label_keys(project: Project) -> list[str]:
    return list(project.labels.order_by("order", "id").values_list("key", flat=True))


def _versions(project: Project) -> list[int]:
    return [v for v in selectors.snapshot_versions(project=project).values_list("version", flat=True) if v]


def _list_context(
    request: HtmxHttpRequest, access: ProjectAccess, form: SnapshotCreateForm
) -> dict[str, Any]:
    project = access.project
    versions = _versions(project)
    compare = SnapshotCompareForm(
        initial={"old": versions[1] if len(versions) > 1 else None, "new": versions[0] if versions else None},
        versions=versions,
    )
    filterset = SnapshotFilterSet(request.GET or None, queryset=selectors.snapshot_list(project=project))
    page = Paginator(filterset_rows(filterset).order_by("-created_at", "-id"), 50)
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "project": project, "form": form, "compare": compare, "versions": versions,
        "filter": filterset, "query": query.urlencode(),
        "page": page.get_page(request.GET.get("page")), "can_export": access.allows(Action.EXPORT),
    }  # fmt: skip


def _created(request: HtmxHttpRequest, project: Project, started: Started[Snapshot]) -> HttpResponse:
    snapshot = started.job
    snapshot.refresh_from_db()
    if not started.created:
        messages.info(request, MESSAGE_UNDER_WAY.format(label=snapshot.label))
    elif snapshot.status == SnapshotStatus.SUCCEEDED:
        messages.success(request, f"Made {snapshot.label}: {snapshot.row_count} rows.")
    elif snapshot.status == SnapshotStatus.FAILED:
        messages.error(request, f"Snapshot {snapshot.label} failed: {snapshot.error}")
    else:
        messages.info(request, f"Building snapshot {snapshot.label}; its row updates when it is done.")
    return redirect_htmx(request, reverse("datasets:snapshot-list", args=[project.slug]))


@project_view(Action.OVERSEE)
@require_http_methods(["GET", "POST"])
def snapshot_list(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    form = SnapshotCreateForm(request.POST or None, label_keys=_label_keys(project))
    if request.method == "POST":
        if not access.allows(Action.EXPORT):
            raise PermissionDenied("Only owners and data scientists make snapshots.")
        if form.is_valid():
            started = form_run(form, lambda: snapshot_create_or_join(
                project=project, user=access.user, request=form.snapshot_request(), trigger=Trigger.UI,
            ))  # fmt: skip
            if started is not None:
                return _created(request, project, started)
    context = _list_context(request, access, form)
    return render_partial(request, LIST_TEMPLATE, context, partial="create-form", status=form_status(request))


@require_GET
@project_view(Action.OVERSEE)
def snapshot_status(request: HtmxHttpRequest, access: ProjectAccess, snapshot_id: int) -> HttpResponse:
    project = access.project
    snapshot = selectors.snapshot_job_get(project=project, snapshot_id=snapshot_id)
    return render(request, f"{LIST_TEMPLATE}#row", {"project": project, "snapshot": snapshot})


def _split_label_table(manifest: dict[str, Any]) -> dict[str, Any]:
    """Rows per label with a count per split and a total, for the counts table."""
    by_split: dict[str, dict[str, int]] = manifest.get("counts", {}).get("labels_by_split", {})
    splits: list[str] = [split for split in ("train", "valid", "test") if split in by_split]
    splits += sorted(set(by_split) - set(splits))
    distribution: dict[str, int] = manifest.get("label_distribution", {})
    labels = [key for key in manifest.get("labels", []) if key in distribution]
    labels += sorted(set(distribution) - set(labels))
    total = sum(distribution.values()) or 1
    rows = [
        {"label": label, "counts": [by_split[split].get(label, 0) for split in splits],
         "total": distribution.get(label, 0), "percent": round(100 * distribution.get(label, 0) / total, 1)}
        for label in labels
    ]  # fmt: skip
    return {"splits": splits, "rows": rows}


@require_GET
@project_view(Action.OVERSEE)
def snapshot_detail(request: HtmxHttpRequest, access: ProjectAccess, version: int) -> HttpResponse:
    project = access.project
    snapshot = selectors.snapshot_get(project=project, version=version)
    files = snapshot.manifest.get("files", [])
    table = _split_label_table(snapshot.manifest)
    split_counts = snapshot.manifest.get("counts", {}).get("splits", {})
    definitions = snapshot.manifest.get("datasheet", {}).get("label_definitions", "")
    context = {
        "project": project,
        "snapshot": snapshot,
        "manifest": snapshot.manifest,
        "data_files": [entry for entry in files if entry["format"] != "fewshot"],
        "fewshot_files": [entry for entry in files if entry["format"] == "fewshot"],
        "label_table": table,
        "split_counts": [(split, split_counts.get(split, 0)) for split in table["splits"]],
        "definitions_html": mark_safe(render_markdown(definitions)),  # noqa: S308 (render_markdown sanitises with nh3)
        "manifest_name": selectors.MANIFEST_NAME,
    }
    return render(request, "datasets/snapshot_detail.html", context)


@require_GET
@project_view(Action.OVERSEE)
def snapshot_download(
    request: HtmxHttpRequest, access: ProjectAccess, version: int, name: str
) -> HttpResponseBase:
    project = access.project
    snapshot = selectors.snapshot_get(project=project, version=version)
    try:
        return snapshot_file_response(snapshot=snapshot, name=name)
    except FileNotFoundError as exc:
        raise Http404(f"The file '{name}' is missing from storage.") from exc


@require_GET
@project_view(Action.OVERSEE)
def snapshot_diff_view(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    versions = _versions(project)
    form = SnapshotCompareForm(request.GET or None, versions=versions)
    context: dict[str, Any] = {"project": project, "compare": form, "versions": versions}
    if not form.is_valid():
        context["error"] = ERROR_COMPARE
        return render(request, "datasets/snapshot_diff.html", context, status=400)
    try:
        old = selectors.snapshot_get(project=project, version=form.cleaned_data["old"])
        new = selectors.snapshot_get(project=project, version=form.cleaned_data["new"])
        diff = selectors.snapshot_diff(old=old, new=new)
    except NotFoundError as exc:
        context["error"] = f"{exc.message} (v{form.cleaned_data['old']} or v{form.cleaned_data['new']})"
        return render(request, "datasets/snapshot_diff.html", context, status=404)
    context.update({"old": old, "new": new, "diff": diff.to_json()})
    return render(request, "datasets/snapshot_diff.html", context)
