from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render

from core.filtersets import filterset_rows
from core.htmx import HtmxHttpRequest
from labeling.filtersets import InteractionEventFilterSet
from labeling.selectors import item_annotations_for_user, item_flags_for_user
from labeling.selectors.activity import (
    interaction_event_list_for_user,
)
from projects.access import ProjectAccess
from projects.permissions import Action
from projects.selectors import item_get
from projects.web import project_view
from weak_supervision.selectors import latest_run, weak_labels_get


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
