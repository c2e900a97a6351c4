from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import render

from core.exceptions import NotFoundError
from core.htmx import HtmxHttpRequest
from labeling.selectors import item_annotations_for_user, item_flags_for_user
from labeling.selectors.activity import (
    interaction_event_list_for_user,
)
from projects.models import Project
from projects.permissions import Action
from projects.selectors import item_get
from projects.web import _can, project_view
from weak_supervision.selectors import latest_run, weak_labels_get


@project_view()
def item_detail(request: HtmxHttpRequest, project: Project, item_id: int) -> HttpResponse:
    try:
        item = item_get(project=project, item_id=item_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    context = {
        "project": project,
        "item": item,
        "annotations": item_annotations_for_user(project=project, item=item, user=request.user),
        "flags": item_flags_for_user(project=project, item=item, user=request.user),
        "events": interaction_event_list_for_user(project=project, user=request.user).filter(item=item),
        "blind": not _can(project, Action.SEE_OTHERS_ANSWERS),
        **_weak_label_context(project, item.pk),
    }
    return render(request, "oversight/item_detail.html", context)


def _weak_label_context(project: Project, item_id: int) -> dict[str, Any]:
    if not _can(project, Action.SEE_MODEL_OUTPUTS):
        return {"weak_run": None, "weak_label": None}
    run = latest_run(project=project)
    answer = weak_labels_get(run=run, item_ids=[item_id]).get(item_id) if run else None
    return {"weak_run": run, "weak_label": answer}
