"""The label-errors page: the latest scan's suspects, ranked, the scans, and the button that starts one (the
same selectors and service as the API and `find_label_errors`).

Owners, reviewers and data scientists (Action.OVERSEE, as the dashboard).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.htmx import HtmxHttpRequest, render_partial
from core.web import STATUS_INVALID, redirect_htmx
from oversight.choices import JobStatus, JobTrigger
from oversight.selectors.label_errors import label_error_scan_latest, label_error_scan_list, label_issue_list
from oversight.services.label_errors import label_error_scan_start
from projects.access import ProjectAccess
from projects.permissions import Action
from projects.web import project_view

TEMPLATE = "oversight/label_errors.html"
SCANS_SHOWN = 20
SUSPECTS_SHOWN = 200
MESSAGE_STARTED = "Label-error scan #{number} started: the page follows it."
MESSAGE_UNDER_WAY = "Label-error scan #{number} is already under way: here it is."


def _context(access: ProjectAccess, **extra: Any) -> dict[str, Any]:
    project = access.project
    scans = list(label_error_scan_list(project=project)[:SCANS_SHOWN])
    current = scans[0] if scans else None
    latest = label_error_scan_latest(project=project)
    return {
        "project": project,
        "scans": scans,
        "current": current,
        "under_way": current is not None and current.status in (JobStatus.PENDING, JobStatus.RUNNING),
        "latest": latest,
        "issues": list(
            label_issue_list(project=project, latest=latest).select_related("item")[:SUSPECTS_SHOWN]
        ),
        "shown": SUSPECTS_SHOWN,
        **extra,
    }


@require_GET
@project_view(Action.OVERSEE)
def label_errors_page(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    return render_partial(request, TEMPLATE, _context(access), partial="label-errors")


@require_POST
@project_view(Action.OVERSEE)
def label_errors_start(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    try:
        started = label_error_scan_start(project=project, user=access.user, trigger=JobTrigger.UI)
    except ValidationError as exc:
        context = _context(access, error=" ".join(exc.messages))
        return render_partial(request, TEMPLATE, context, partial="label-errors", status=STATUS_INVALID)
    message = MESSAGE_STARTED if started.created else MESSAGE_UNDER_WAY
    messages.info(request, message.format(number=started.job.number))
    return redirect_htmx(request, reverse("oversight:label-errors", args=[project.slug]))
