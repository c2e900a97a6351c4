"""The item browser (the project's items, filtered and sorted by the same FilterSet as the items endpoint,
with bulk actions on the filtered selection) and an item's page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from core.filtersets import filterset_rows
from core.htmx import HtmxHttpRequest, render_partial
from core.pagination import CappedPaginator
from core.web import STATUS_INVALID, form_run
from labeling.filtersets import InteractionEventFilterSet
from labeling.selectors import item_annotations_for_user, item_flags_for_user
from labeling.selectors.activity import (
    interaction_event_list_for_user,
)
from oversight.filtersets import ItemFilterSet
from oversight.forms import BULK_DELETE, BULK_GOLD_CHECK, BULK_REVIEW, ItemBulkForm
from oversight.selectors.items import item_browser_list
from oversight.services.items import BulkResult, items_delete, items_gold_check_set, items_review_send
from projects.access import ProjectAccess
from projects.permissions import Action
from projects.selectors import item_get
from projects.web import project_view
from weak_supervision.selectors import latest_run, weak_labels_get

PAGE_SIZE = 50
# Who may take each bulk action (the Action table): reviewers send to review; owners set checks and delete.
BULK_PERMISSIONS = {
    BULK_REVIEW: Action.REVIEW,
    BULK_GOLD_CHECK: Action.EDIT_PROJECT,
    BULK_DELETE: Action.EDIT_PROJECT,
}
DONE = {
    BULK_REVIEW: "Sent {changed:,} of {selected:,} items to review.",
    BULK_GOLD_CHECK: "Made {changed:,} of {selected:,} items gold checks.",
    BULK_DELETE: "Deleted {changed:,} items.",
}
SKIPPED = {
    "has_gold": "{n:,} have a gold label already",
    "in_queue": "{n:,} were waiting in review already",
    "no_gold": "{n:,} have no gold label to check against",
    "already": "{n:,} were gold checks already",
}


def _browser(
    request: HtmxHttpRequest, access: ProjectAccess, *, status: int = 200, **extra: Any
) -> HttpResponse:
    """The browser page, or its rows region for htmx: the filtered items, a page of them, the bulk actions."""
    filterset = ItemFilterSet(request.GET or None, queryset=item_browser_list(project=access.project),
                              access=access)  # fmt: skip
    page = CappedPaginator(filterset_rows(filterset), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    bulk = [name for name, action in BULK_PERMISSIONS.items() if access.allows(action)]
    context = {"project": access.project, "filter": filterset, "page": page, "query": query.urlencode(),
               "bulk": bulk, "bulk_form": ItemBulkForm(), **extra}  # fmt: skip
    return render_partial(request, "oversight/item_list.html", context, partial="rows", status=status)


@project_view()
def item_list(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    return _browser(request, access)


def _summary(action: str, result: BulkResult) -> str:
    skipped = [SKIPPED[reason].format(n=n) for reason, n in result.skipped.items() if n]
    done = DONE[action].format(changed=result.changed, selected=result.selected)
    return f"{done} Left as they were: {'; '.join(skipped)}." if skipped else done


@project_view()
@require_POST
def item_bulk(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    """A bulk action on the items the query string's filters select; deleting first asks to confirm the count."""
    form = ItemBulkForm(request.POST)
    if not form.is_valid():
        return _browser(request, access, bulk_form=form, status=STATUS_INVALID)
    action, data = form.cleaned_data["action"], form.cleaned_data
    access.require(BULK_PERMISSIONS[action])
    filterset = ItemFilterSet(request.GET, queryset=item_browser_list(project=access.project), access=access,
                              also_known=())  # fmt: skip
    if not filterset.is_valid():
        return _browser(request, access, status=STATUS_INVALID)
    items, project = filterset.qs, access.project
    if action == BULK_DELETE and data["confirm"] is None:
        return _browser(request, access, confirm_delete=items.count())
    run: dict[str, Callable[[], BulkResult]] = {
        BULK_REVIEW: lambda: items_review_send(project=project, items=items, note=data["note"]),
        BULK_GOLD_CHECK: lambda: items_gold_check_set(project=project, items=items),
        BULK_DELETE: lambda: items_delete(project=project, items=items, confirm=data["confirm"]),
    }
    result = form_run(form, run[action])
    if result is None:
        return _browser(request, access, bulk_form=form, status=STATUS_INVALID)
    return _browser(request, access, bulk_done=_summary(action, result))


@project_view()
def item_detail(request: HtmxHttpRequest, access: ProjectAccess, item_id: int) -> HttpResponse:
    project = access.project
    item = item_get(project=project, item_id=item_id)
    # The events endpoint's filters (type, user, since, until) read from the page's query string.
    events = InteractionEventFilterSet(
        request.GET or None,
        queryset=interaction_event_list_for_user(project=project, viewer=access).filter(item=item),
    )
    context = {
        "project": project,
        "item": item,
        "annotations": item_annotations_for_user(access=access, item=item),
        "flags": item_flags_for_user(access=access, item=item),
        "events": filterset_rows(events),
        "filter": events,
        "blind": not access.allows(Action.SEE_OTHERS_ANSWERS),
        **_weak_label_context(access, item.pk),
    }
    return render(request, "oversight/item_detail.html", context)


def _weak_label_context(access: ProjectAccess, item_id: int) -> dict[str, Any]:
    if not access.allows(Action.SEE_MODEL_OUTPUTS):
        return {"weak_run": None, "weak_label": None}
    run = latest_run(project=access.project)
    answer = weak_labels_get(run=run, item_ids=[item_id]).get(item_id) if run else None
    return {"weak_run": run, "weak_label": answer}
