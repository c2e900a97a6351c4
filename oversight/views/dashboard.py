"""The oversight dashboard: progress, labels, agreement, the annotator table and the latest label-model run.

Charts are SVG drawn on the server (core.charts, weak_supervision.charts): no JavaScript, no CDN.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString

from core.charts import bar_chart, line_chart
from core.htmx import HtmxHttpRequest
from oversight.selectors.dashboard import dashboard_get
from projects.access import ProjectAccess
from projects.permissions import Action
from projects.web import project_view
from weak_supervision.charts import lf_bar_chart


def _series(rows: list[dict[str, Any]], x: str, y: str) -> list[tuple[str, float | None]]:
    return [(row[x], row[y]) for row in rows]


def _charts(data: dict[str, Any]) -> dict[str, SafeString]:
    progress, weeks, run = data["progress"], data["agreement"]["over_time"], data["run"]
    agreement = [
        ("Percent agreement", _series(weeks, "period", "percent_agreement")),
        ("Krippendorff's alpha", _series(weeks, "period", "krippendorff_alpha")),
    ]
    return {
        "labeled": line_chart(
            [("Labeled items", _series(progress, "date", "labeled_items"))],
            title="Labeled items so far, per day",
        ),
        "annotations": line_chart(
            [("Annotations", _series(progress, "date", "annotations"))], title="Annotations per day"
        ),
        "labels": bar_chart(
            [(row["name"], row["count"]) for row in data["labels"]], title="Annotations per label"
        ),
        "agreement": line_chart(agreement, title="Agreement per week", y_max=1.0),
        "lfs": lf_bar_chart(run["lfs"]) if run and run["lfs"] else SafeString(""),
    }


@project_view(Action.OVERSEE)
def project_dashboard(request: HtmxHttpRequest, access: ProjectAccess) -> HttpResponse:
    project = access.project
    data = dashboard_get(project=project, viewer=access)
    context = {
        "project": project,
        **data,
        "charts": _charts(data),
        # The alert about analysts under the gold threshold offers to send their labels to review.
        "can_manage": access.allows(Action.MANAGE_MEMBERS),
        "can_review": access.allows(Action.REVIEW),
    }
    return render(request, "oversight/project_dashboard.html", context)
