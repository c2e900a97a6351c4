"""The reviewer queue (keyboard-first, like the labeling view), gold labels and known answers, and the
feedback analysts get on their reviewed items.

Like the labeling view, every action is a form that also works without JavaScript; review.js adds the keys
and the dwell time.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from core.exceptions import ApplicationError
from core.filtersets import filterset_rows
from core.htmx import HtmxHttpRequest, render_partial
from core.web import form_run, form_status
from oversight.filtersets import GoldLabelFilterSet
from oversight.forms import KnownAnswersForm, ReviewDecideForm, ReviewPassForm, ReviewSpansDecideForm
from oversight.selectors.review import (
    ReviewContext,
    gold_label_list,
    review_context_get,
    review_feedback_list,
    review_queue_counts,
)
from oversight.services.review import (
    ReviewClaim,
    gold_checks_set,
    known_answers_parse,
    membership_review_all_set,
    review_decide,
    review_next,
    review_pass,
    review_queue_refresh,
)
from projects.access import ProjectAccess
from projects.models import Item, Project
from projects.permissions import Action
from projects.web import project_view

TEMPLATE = "oversight/review.html"


def _panel_context(project: Project, claim: ReviewClaim | None, **extra: Any) -> dict[str, Any]:
    context = review_context_get(project=project, item=claim.item, request=claim.request) if claim else None
    return _page_context(project, context, **extra)


def _page_context(project: Project, review: ReviewContext | None, **extra: Any) -> dict[str, Any]:
    labels = list(project.labels.all())
    return {
        "project": project,
        "labels": labels,
        "span_colors": {label.key: label.color for label in labels},  # span projects: a colour per type
        "review": review,
        "counts": review_queue_counts(project=project),
        **extra,
    }


def _decide_form(request: HtmxHttpRequest, project: Project) -> ReviewDecideForm | ReviewSpansDecideForm:
    if project.is_spans:
        return ReviewSpansDecideForm(request.POST)
    return ReviewDecideForm(request.POST, label_keys=[label.key for label in project.labels.all()])


def _flash(request: HtmxHttpRequest, message: str, *, error: bool, status: int = 200) -> HttpResponse:
    response = render(request, f"{TEMPLATE}#flash", {"message": message, "error": error}, status=status)
    return reswap(retarget(response, "#flash"), "innerHTML")


def _error(request: HtmxHttpRequest, project: Project, message: str) -> HttpResponse:
    if not request.htmx:
        messages.error(request, message)
        return redirect("oversight:review", slug=project.slug)
    return _flash(request, message, error=True, status=422)


def _next(request: HtmxHttpRequest, access: ProjectAccess, **extra: Any) -> HttpResponse:
    project = access.project
    if not request.htmx:
        return redirect("oversight:review", slug=project.slug)
    claim = review_next(project=project, reviewer=access.user)
    return render(request, f"{TEMPLATE}#panel", _panel_context(project, claim, **extra))


@require_GET
@project_view(Action.REVIEW)
def review_page(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    claim = review_next(project=project, reviewer=access.user)
    template = f"{TEMPLATE}#panel" if request.htmx and not request.htmx.boosted else TEMPLATE
    return render(request, template, _panel_context(project, claim))


@require_POST
@project_view(Action.REVIEW)
def review_decide_view(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    form = _decide_form(request, project)
    if not form.is_valid():
        return _error(request, project, "; ".join(str(e) for errors in form.errors.values() for e in errors))
    data = form.cleaned_data
    try:
        gold = review_decide(
            project=project, reviewer=access.user, item_id=data["item_id"], labels=data.get("labels"),
            spans=data.get("spans"), annotation_id=data.get("annotation_id"), note=data["note"],
            use_as_check=data["use_as_check"], dwell_ms=data["dwell_ms"],
        )  # fmt: skip
    except (ValidationError, ApplicationError) as exc:
        message = exc.message if isinstance(exc, ApplicationError) else " ".join(exc.messages)
        return _error(request, project, message)
    decided = (gold.labels or ["no entities"]) if project.is_spans else data["labels"]
    return _next(request, access, decided=decided)


@require_POST
@project_view(Action.REVIEW)
def review_pass_view(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    form = ReviewPassForm(request.POST)
    if not form.is_valid():
        return _error(request, project, "Which item?")
    try:
        review_pass(project=project, reviewer=access.user, item_id=form.cleaned_data["item_id"])
    except ApplicationError as exc:
        return _error(request, project, exc.message)
    return _next(request, access)


@require_POST
@project_view(Action.REVIEW)
def review_refresh_view(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    counts = review_queue_refresh(project=project)
    added = sum(counts.values())
    messages.success(
        request, f"Review queue rebuilt: {added} item{'s' * (added != 1)} added or given a new reason."
    )
    return redirect("oversight:review", slug=project.slug)


@require_GET
@project_view(Action.REVIEW)
def review_item(request: HtmxHttpRequest, access: ProjectAccess, item_id: int) -> HttpResponse:
    """Any item, for a reviewer to decide (or re-decide) outside the queue's order."""
    project = access.project
    item = Item.objects.filter(project=project, pk=item_id).first()
    if item is None:
        messages.error(request, "Item not found in this project.")
        return redirect("oversight:review", slug=project.slug)
    request_row = item.review_requests.filter(status="open").first()
    context = review_context_get(project=project, item=item, request=request_row)
    return render(request, TEMPLATE, _page_context(project, context, single=True))


@require_http_methods(["GET", "POST"])
@project_view(Action.REVIEW)
def gold_list(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    """Gold labels with their provenance; owners add known answers (gold checks) from CSV text."""
    project = access.project
    form = KnownAnswersForm(request.POST or None, initial={"is_check": True})
    if request.method == "POST":
        access.require(Action.EDIT_PROJECT)  # known answers are the owner's, as on the API
        if form.is_valid():
            stored = form_run(form, lambda: gold_checks_set(
                project=project, answers=known_answers_parse(form.cleaned_data["answers"]),
                by=access.user, is_check=form.cleaned_data["is_check"],
            ))  # fmt: skip
            if stored is not None:
                messages.success(request, f"{stored} known answer{'s' * (stored != 1)} stored.")
                return redirect("oversight:gold-list", slug=project.slug)
    filterset = GoldLabelFilterSet(request.GET or None, queryset=gold_label_list(project=project))
    page = Paginator(filterset_rows(filterset), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "project": project,
        "page": page,
        "form": form,
        "filter": filterset,
        "query": query.urlencode(),
    }
    return render_partial(
        request, "oversight/gold_list.html", context, partial="rows", status=form_status(request)
    )


@require_POST
@project_view(Action.MANAGE_MEMBERS)
def member_review_all(request: HtmxHttpRequest, access: ProjectAccess, user_id: int) -> HttpResponse:
    project = access.project
    enabled = request.POST.get("enabled") == "1"
    try:
        queued = membership_review_all_set(project=project, user_id=user_id, enabled=enabled)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"Their labels go to review now: {queued} item{'s' * (queued != 1)} queued."
            if enabled
            else "Their labels no longer all go to review.",
        )
    back = (
        "oversight:project-dashboard" if request.POST.get("next") == "dashboard" else "projects:member-list"
    )
    return redirect(back, slug=project.slug)


@require_GET
@project_view(Action.LABEL)
def feedback_list(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    """An analyst's reviewed items: their answer, the final one and the reviewer's note."""
    project = access.project
    rows = review_feedback_list(project=project, user=access.user)
    agreed = sum(row.agreed for row in rows)
    return render(
        request, "oversight/feedback_list.html", {"project": project, "rows": rows, "agreed": agreed}
    )
