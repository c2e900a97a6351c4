"""Reads for the oversight dashboard: progress over time, and every figure the page shows gathered in one place.

For owners, reviewers and data scientists (Action.OVERSEE); the view checks that before calling.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Min, OuterRef, QuerySet, Subquery
from django.db.models.functions import TruncDate

from labeling.models import Annotation
from labeling.selectors import project_stats
from oversight.selectors.agreement import agreement_get
from oversight.selectors.quality import annotator_quality_list
from oversight.selectors.review import review_queue_counts
from projects.access import ProjectAccess
from projects.models import Item, Project
from weak_supervision.models import LabelModelRun
from weak_supervision.selectors import latest_run


def _count_by_day(rows: QuerySet[Any]) -> dict[dt.date, int]:
    counts = rows.values("day").annotate(n=Count("id")).order_by().values_list("day", "n")
    return {day: n for day, n in counts if day is not None}


def progress_over_time(*, project: Project) -> list[dict[str, Any]]:
    """Per UTC day from the first annotation to the last: annotations created that day and labeled items so far.

    An item counts as labeled from the day of its first (earliest remaining) annotation. Days without any
    annotation are included with 0, so that a chart over the rows runs evenly in time. Both counts are
    grouped in the database: one row per day comes back, however many annotations there are.
    """
    annotations = Annotation.objects.filter(project=project)
    per_day = _count_by_day(annotations.annotate(day=TruncDate("created_at", tzinfo=dt.UTC)))
    first = (
        Annotation.objects.filter(item=OuterRef("pk"))
        .order_by()
        .values("item")
        .annotate(first=Min("created_at"))
        .values("first")
    )
    first_per_day = _count_by_day(
        Item.objects.filter(project=project)
        # Items never annotated fall in one group without a day, dropped by _count_by_day: filtering them
        # out in SQL would run the subquery twice per item.
        .annotate(day=TruncDate(Subquery(first), tzinfo=dt.UTC))
    )
    days = sorted(per_day.keys() | first_per_day.keys())
    if not days:
        return []
    rows, labeled, day = [], 0, days[0]
    while day <= days[-1]:
        labeled += first_per_day.get(day, 0)
        rows.append({"date": day.isoformat(), "annotations": per_day.get(day, 0), "labeled_items": labeled})
        day += dt.timedelta(days=1)
    return rows


def label_distribution(*, project: Project, per_label: dict[str, int]) -> list[dict[str, Any]]:
    """Per label, in schema order: key, name, annotations giving it and its share of all labels given."""
    names = dict(project.labels.values_list("key", "name"))
    total = sum(per_label.values())
    return [
        {"key": key, "name": names.get(key, key), "count": count, "share": count / total if total else None}
        for key, count in per_label.items()
    ]


def _scores(entry: dict[str, Any]) -> dict[str, Any]:
    return {"accuracy": entry.get("accuracy"), "macro_f1": entry.get("macro_f1")}


def run_summary(*, run: LabelModelRun) -> dict[str, Any]:
    """A finished run's headline figures: coverage, label model vs majority vote per split, and its LFs."""
    metrics: dict[str, Any] = run.metrics or {}
    splits = [
        {
            "split": name,
            "n_items": entry.get("n_items"),
            "n_gold": entry.get("n_gold"),
            "coverage": entry.get("coverage"),
            "label_model": _scores(entry.get("label_model") or {}),
            "majority_vote": _scores(entry.get("majority_vote") or {}),
        }
        for name, entry in (metrics.get("splits") or {}).items()
    ]
    return {
        "number": run.number,
        "n_items": metrics.get("n_items", run.item_count),
        "coverage": metrics.get("coverage"),
        "aggregator": metrics.get("aggregator", "label model"),
        "splits": splits,
        "lfs": list(run.lf_analysis or []),
    }


def dashboard_get(*, project: Project, viewer: ProjectAccess) -> dict[str, Any]:
    """Everything on the dashboard: counts, progress, labels, agreement, the annotator table, the latest run."""
    stats = project_stats(project=project)
    annotators = [row.to_json() for row in annotator_quality_list(project=project, viewer=viewer)]
    run = latest_run(project=project)
    return {
        "stats": stats,
        "progress": progress_over_time(project=project),
        "labels": label_distribution(project=project, per_label=stats["per_label"]),
        "agreement": agreement_get(project=project).to_json(),
        "annotators": annotators,
        # The same rows as the table: the flag is computed once, with the project's threshold and minimum.
        "below_threshold": [row for row in annotators if row["below_threshold"]],
        "run": run_summary(run=run) if run is not None else None,
        "review_counts": review_queue_counts(project=project),
    }
