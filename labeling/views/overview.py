"""The project's overview page: progress, counts and (for those who may see them) every analyst's figures."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from core.htmx import HtmxHttpRequest
from labeling.selectors import project_stats
from labeling.selectors.activity import (
    analyst_summary_list,
    project_progress,
)
from projects.access import ProjectAccess
from projects.permissions import Action
from projects.web import project_view


@project_view()
def project_detail(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    summaries = analyst_summary_list(project=project, viewer=access)
    context = {
        "project": project,
        "stats": project_stats(project=project, viewer=access),
        "progress": project_progress(project=project, user=access.user),
        "my_summary": next((row for row in summaries if row.user_id == access.user.pk), None),
        "summaries": summaries if access.allows(Action.SEE_OTHERS_ANSWERS) else [],
        "can_import": access.allows(Action.IMPORT),
        "can_manage": access.allows(Action.MANAGE_MEMBERS),
    }
    return render(request, "labeling/project_detail.html", context)
