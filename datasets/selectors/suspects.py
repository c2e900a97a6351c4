"""The items a snapshot may leave out as suspects: those the project's latest succeeded label-error scan
(oversight.label_errors) flags as probably mislabeled."""

from __future__ import annotations

from dataclasses import dataclass

from oversight.choices import JobStatus
from oversight.models import ItemLabelIssue, LabelErrorScan
from projects.models import Project


@dataclass(frozen=True)
class Suspects:
    """The latest succeeded scan's number (None without one) and the items it flags."""

    scan: int | None
    item_ids: frozenset[int]


def snapshot_suspects_get(*, project: Project) -> Suspects:
    scan = (
        LabelErrorScan.objects.filter(project=project, status=JobStatus.SUCCEEDED)
        .only("pk", "number")
        .order_by("-number")
        .first()
    )
    if scan is None:
        return Suspects(scan=None, item_ids=frozenset())
    ids = ItemLabelIssue.objects.filter(scan=scan).values_list("item_id", flat=True)
    return Suspects(scan=scan.number, item_ids=frozenset(ids))
