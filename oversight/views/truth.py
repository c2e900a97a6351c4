"""The truth-inference page: the latest run's state and summary, every source's estimated reliability, the
runs, and the button that starts one (the same selectors and service as the API and `infer_labels`).

Owners, reviewers and data scientists (Action.OVERSEE, as the dashboard): analysts never see others'
reliability.
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
from oversight.selectors.truth import inference_run_latest, inference_run_list
from oversight.services.truth import inference_run_start
from projects.access import ProjectAccess
from projects.permissions import Action
from projects.web import project_view

TEMPLATE = "oversight/inference.html"
RUNS_SHOWN = 50
MESSAGE_STARTED = "Inference run #{number} started: the page follows it."
MESSAGE_UNDER_WAY = "Inference run #{number} is already under way: here it is."


def _context(access: ProjectAccess, **extra: Any) -> dict[str, Any]:
    project = access.project
    runs = list(inference_run_list(project=project)[:RUNS_SHOWN])
    current = runs[0] if runs else None
    return {
        "project": project,
        "runs": runs,
        "current": current,
        "under_way": current is not None and current.status in (JobStatus.PENDING, JobStatus.RUNNING),
        "latest": inference_run_latest(project=project),
        **extra,
    }


@require_GET
@project_view(Action.OVERSEE)
def inference_page(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    return render_partial(request, TEMPLATE, _context(access), partial="inference")


@require_POST
@project_view(Action.OVERSEE)
def inference_start(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    try:
        started = inference_run_start(project=project, user=access.user, trigger=JobTrigger.UI)
    except ValidationError as exc:
        context = _context(access, error=" ".join(exc.messages))
        return render_partial(request, TEMPLATE, context, partial="inference", status=STATUS_INVALID)
    message = MESSAGE_STARTED if started.created else MESSAGE_UNDER_WAY
    messages.info(request, message.format(number=started.job.number))
    return redirect_htmx(request, reverse("oversight:inference", args=[project.slug]))
