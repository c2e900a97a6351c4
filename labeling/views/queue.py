"""The labeling view: one page whose panel htmx replaces with the next item after every action.

Every action is a form that also works without JavaScript (a POST, then a redirect back to the page);
labeling.js adds the hotkeys, the dwell time, the client's uuid and timestamps, and rationale spans.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget

from core.exceptions import ApplicationError
from core.htmx import HtmxHttpRequest
from core.spans import token_offsets_of
from labeling.forms import AnnotationSubmitForm, FlagForm, QueueSkipForm, QueueUndoForm, SpanSubmitForm
from labeling.selectors import item_suggestion, suggestions_shown
from labeling.selectors.activity import project_progress, queue_skipped_count
from labeling.services.annotations import annotation_submit, annotation_undo_last
from labeling.services.interactions import item_flag
from labeling.services.queue import QueueItem, queue_item_next, queue_item_skip, queue_skips_reset
from projects.access import ProjectAccess
from projects.models import Project
from projects.permissions import Action
from projects.selectors import project_labels
from projects.web import project_view

TEMPLATE = "labeling/label.html"


def _panel_context(
    request: HtmxHttpRequest, access: ProjectAccess, current: QueueItem | None, **extra: Any
) -> dict[str, Any]:
    project, user = access.project, access.user
    shown = current is not None and suggestions_shown(access=access)
    suggestion = (
        item_suggestion(project=project, item=current.item) if current is not None and shown else None
    )
    # Retired labels keep their answers but are offered to no one.
    labels = [label for label in project_labels(project=project) if label.retired_at is None]
    spans = _span_data(project, labels, current, shown=shown) if project.is_spans else None
    return {
        "project": project,
        "labels": labels,
        "span_data": spans,
        "current": current,
        "suggestion": suggestion,
        "client_uuid": uuid.uuid4(),
        "progress": project_progress(project=project, user=user),
        "skipped_count": queue_skipped_count(project=project, user=user),
        **extra,
    }


def _span_data(
    project: Project, labels: list[Any], current: QueueItem | None, *, shown: bool
) -> dict[str, Any]:
    """What spans.js needs to draw a span project's item: its text and tokens, the entity types, and the
    spans to start from (the undone answer's, else the model's suggestion where analysts see them)."""
    if current is None:
        return {}
    item = current.item
    start = current.previous_spans or (item.suggested_spans if shown else [])
    return {
        "text": item.text,
        "tokens": token_offsets_of(item.text, item.token_offsets),
        "types": [{"key": label.key, "name": label.name, "hotkey": label.hotkey.lower(), "color": label.color}
                  for label in labels],
        "spans": start,
        "suggested": bool(not current.previous_spans and start),
        "allow_overlap": project.allow_overlapping_spans,
    }  # fmt: skip


def _panel(
    request: HtmxHttpRequest, access: ProjectAccess, current: QueueItem | None, **extra: Any
) -> HttpResponse:
    """The panel fragment for htmx; a redirect back to the page for a plain form post."""
    if not request.htmx:
        return redirect("labeling:label", slug=access.project.slug)
    return render(request, f"{TEMPLATE}#panel", _panel_context(request, access, current, **extra))


def _next_panel(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    if not request.htmx:
        return redirect("labeling:label", slug=access.project.slug)
    return _panel(
        request,
        access,
        queue_item_next(project=access.project, user=access.user, suggest=suggestions_shown(access=access)),
    )


def _flash(request: HtmxHttpRequest, message: str, *, error: bool, status: int = 200) -> HttpResponse:
    """A message in the page's flash area, leaving the current item (and its dwell clock) alone."""
    response = render(request, f"{TEMPLATE}#flash", {"message": message, "error": error}, status=status)
    return reswap(retarget(response, "#flash"), "innerHTML")


def _form_error(
    request: HtmxHttpRequest, project: Project, error: forms.Form | ValidationError | ApplicationError
) -> HttpResponse:
    if isinstance(error, forms.Form):
        message = "; ".join(str(e) for errors in error.errors.values() for e in errors)
    else:
        message = error.message if isinstance(error, ApplicationError) else " ".join(error.messages)
    if not request.htmx:
        return redirect("labeling:label", slug=project.slug)
    return _flash(request, message, error=True, status=422)


@require_GET
@project_view(Action.LABEL)
def label_page(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    current = queue_item_next(project=project, user=access.user, suggest=suggestions_shown(access=access))
    context = _panel_context(request, access, current)
    template = f"{TEMPLATE}#panel" if request.htmx and not request.htmx.boosted else TEMPLATE
    return render(request, template, context)


@require_POST
@project_view(Action.LABEL)
def label_submit(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    if project.is_spans:
        return _span_submit(request, access)
    form = AnnotationSubmitForm(
        request.POST, label_keys=[label.key for label in project_labels(project=project)]
    )
    if not form.is_valid():
        return _form_error(request, project, form)
    data = form.cleaned_data
    try:
        annotation_submit(
            project=project, user=access.user, item_id=data["item_id"], labels=data["labels"],
            client_uuid=data["client_uuid"], lead_time_ms=data["lead_time_ms"], rationales=data["rationales"],
            input_method=data["input_method"], client_ts=data["client_ts"], suggested_label=data["suggested_label"],
            membership=access.membership,
        )  # fmt: skip
    except (ValidationError, ApplicationError) as exc:
        return _form_error(request, project, exc)
    return _next_panel(request, access)


def _span_submit(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    form = SpanSubmitForm(request.POST)
    if not form.is_valid():
        return _form_error(request, project, form)
    data = form.cleaned_data
    try:
        annotation_submit(
            project=project, user=access.user, item_id=data["item_id"], labels=[], spans=data["spans"],
            spans_suggested=data["spans_suggested"],
            client_uuid=data["client_uuid"], lead_time_ms=data["lead_time_ms"], input_method=data["input_method"],
            client_ts=data["client_ts"], membership=access.membership,
        )  # fmt: skip
    except (ValidationError, ApplicationError) as exc:
        return _form_error(request, project, exc)
    return _next_panel(request, access)


@require_POST
@project_view(Action.LABEL)
def label_skip(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    form = QueueSkipForm(request.POST)
    if not form.is_valid():
        return _form_error(request, project, form)
    data = form.cleaned_data
    try:
        queue_item_skip(
            project=project, user=access.user, item_id=data["item_id"], dwell_ms=data["dwell_ms"],
            input_method=data["input_method"], client_ts=data["client_ts"],
        )  # fmt: skip
    except (ValidationError, ApplicationError) as exc:
        return _form_error(request, project, exc)
    return _next_panel(request, access)


@require_POST
@project_view(Action.LABEL)
def label_undo(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    form = QueueUndoForm(request.POST)
    if not form.is_valid():
        return _form_error(request, project, form)
    try:
        current = annotation_undo_last(
            project=project, user=access.user, input_method=form.cleaned_data["input_method"],
            client_ts=form.cleaned_data["client_ts"],
        )  # fmt: skip
    except (ValidationError, ApplicationError) as exc:
        return _form_error(request, project, exc)
    return _panel(request, access, current, undone=True)


@require_POST
@project_view(Action.LABEL)
def label_flag(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    form = FlagForm(request.POST)
    if not form.is_valid():
        return _form_error(request, project, form)
    data = form.cleaned_data
    try:
        item_flag(
            project=project, user=access.user, item_id=data["item_id"], comment=data["comment"],
            input_method=data["input_method"], client_ts=data["client_ts"],
        )  # fmt: skip
    except (ValidationError, ApplicationError) as exc:
        return _form_error(request, project, exc)
    if not request.htmx:
        return redirect("labeling:label", slug=project.slug)
    return _flash(request, "Flagged for review. Label it, or skip it with S.", error=False)


@require_POST
@project_view(Action.LABEL)
def label_skips_reset(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    queue_skips_reset(project=project, user=access.user)
    return _next_panel(request, access)
