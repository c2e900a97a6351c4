from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from core.htmx import HtmxHttpRequest
from labeling.selectors import project_stats
from labeling.selectors.activity import (
    analyst_summary_list,
    project_progress,
)
from projects.models import Project
from projects.permissions import Action
from projects.web import _can, project_view


@project_view()
def project_detail(request: HtmxHttpRequest, project: Project) -> HttpResponse:
    summaries = analyst_summary_list(project=project, viewer=request.user)
    context = {
        "project": project,
        "stats": project_stats(project=project, user=request.user),
        "progress": project_progress(project=project, user=request.user),
        "my_summary": next((row for row in summaries if row.user_id == request.user.pk), None),
        "summaries": summaries if _can(project, Action.SEE_OTHERS_ANSWERS) else [],
        "can_import": _can(project, Action.IMPORT),
        "can_manage": _can(project, Action.MANAGE_MEMBERS),
    }
    return render(request, "labeling/project_detail.html", context)
