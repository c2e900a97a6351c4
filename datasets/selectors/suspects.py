"""The items a snapshot may leave out as suspects: those the project's latest succeeded label-error scan
(oversight.label_errors) flags as probably mislabeled."""

from __future__ import annotations

from dataclasses import dataclass

from oversight.selectors.label_errors import label_error_scan_latest, label_issue_list
from projects.models import Project


@dataclass(frozen=True)
class Suspects:
    """The latest succeeded scan's number (None without one) and the items it flags."""

    scan: int | None
    item_ids: frozenset[int]


def snapshot_suspects_get(*, project: Project) -> Suspects:
    scan = label_error_scan_latest(project=project)
    if scan is None:
        return Suspects(scan=None, item_ids=frozenset())
    ids = label_issue_list(project=project, latest=scan).values_list("item_id", flat=True)
    return Suspects(scan=scan.number, item_ids=frozenset(ids))
