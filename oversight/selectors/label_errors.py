"""Reads of label-error scans (oversight.services.label_errors): the scans, and the latest succeeded scan's
suspects, the most likely error first. Not scoped: the views check Action.OVERSEE first."""

from __future__ import annotations

from django.db.models import QuerySet

from core.exceptions import NotFoundError
from oversight.choices import JobStatus
from oversight.models import ItemLabelIssue, LabelErrorScan
from projects.models import Project

ERROR_SCAN_NOT_FOUND = "Label-error scan not found."


def label_error_scan_list(*, project: Project) -> QuerySet[LabelErrorScan]:
    return LabelErrorScan.objects.filter(project=project).select_related("created_by").order_by("-number")


def label_error_scan_get(*, project: Project, number: int) -> LabelErrorScan:
    scan = label_error_scan_list(project=project).filter(number=number).first()
    if scan is None:
        raise NotFoundError(ERROR_SCAN_NOT_FOUND)
    return scan


def label_error_scan_latest(*, project: Project) -> LabelErrorScan | None:
    """The latest succeeded scan: the one whose suspects the project carries."""
    return label_error_scan_list(project=project).filter(status=JobStatus.SUCCEEDED).first()


def label_issue_list(*, project: Project, latest: LabelErrorScan | None = None) -> QuerySet[ItemLabelIssue]:
    """The latest succeeded scan's suspects, ranked (each scan replaces the previous one's); `latest`: that
    scan, where the caller has read it already."""
    latest = latest or label_error_scan_latest(project=project)
    if latest is None:
        return ItemLabelIssue.objects.none()
    return ItemLabelIssue.objects.filter(project=project, scan=latest).order_by("rank")
