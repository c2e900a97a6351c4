from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from oversight.choices import JobStatus, JobTrigger
from oversight.models import LabelErrorScan
from oversight.selectors.label_errors import label_issue_list
from oversight.services.label_errors import label_error_scan_execute, label_error_scan_start
from projects.commands import project_from_slug


class Command(BaseCommand):
    help = (
        "Find the human or gold labels that are probably wrong: a classifier cross-validated on the labeled "
        "items (outside the test split) scores each one out of fold, and cleanlab's confident learning flags "
        "the labels it most likely contradicts. Prints them ranked, most likely error first, and sends them to "
        "review. Runs now, in this process."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug", help="The project's slug.")
        parser.add_argument("--json", action="store_true", help="Print the scan and its suspects as JSON.")
        parser.add_argument("--limit", type=int, default=50, help="Suspects printed (default 50; 0: all).")

    def handle(self, *args: Any, **options: Any) -> None:
        project = project_from_slug(options["slug"])
        if options["limit"] < 0:
            raise CommandError("--limit must be 0 (all) or more.")
        try:
            started = label_error_scan_start(
                project=project, user=None, trigger=JobTrigger.CLI, enqueue=False
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        scan = label_error_scan_execute(scan_id=started.job.pk)
        if scan.status != JobStatus.SUCCEEDED:
            raise CommandError(f"Label-error scan {scan.number} failed: {scan.error}")
        issues = label_issue_list(project=project).select_related("item")
        if options["limit"]:
            issues = issues[: options["limit"]]
        rows: list[dict[str, Any]] = [
            {
                "rank": issue.rank,
                "item": issue.item_id,
                "external_id": issue.item.external_id,
                "given_label": issue.given_label,
                "given_from": issue.given_from,
                "given_probability": issue.given_probability,
                "predicted_label": issue.predicted_label,
                "predicted_probability": issue.predicted_probability,
            }
            for issue in issues
        ]
        if options["json"]:
            self.stdout.write(json.dumps({**_scan_json(scan), "issues": rows}, indent=2))
            return
        metrics = scan.metrics
        self.stdout.write(
            f"Label-error scan {scan.number}: {scan.n_flagged} of {scan.n_labeled} labels flagged "
            f"({metrics['features']} features, {metrics['folds']} folds, C={metrics['c']:g}, out-of-fold "
            f"accuracy {metrics['out_of_fold_accuracy']:.1%}), {metrics['review_added']} sent to review, "
            f"{metrics['seconds']['total']:.1f} s."
        )
        if not rows:
            return
        self.stdout.write("")
        self.stdout.write(
            f"{'rank':>5} {'item':<24} {'given':<16} {'from':<9} {'p(given)':>8} {'model says':<16} {'p':>6}"
        )
        for row in rows:
            self.stdout.write(
                f"{row['rank']:>5} {str(row['external_id'])[:24]:<24} {row['given_label'][:16]:<16} "
                f"{row['given_from']:<9} {row['given_probability']:>8.3f} {row['predicted_label'][:16]:<16} "
                f"{row['predicted_probability']:>6.3f}"
            )


def _scan_json(scan: LabelErrorScan) -> dict[str, Any]:
    return {
        "scan": scan.number, "status": scan.status, "labels": scan.labels, "features": scan.features,
        "n_labeled": scan.n_labeled, "n_flagged": scan.n_flagged, "metrics": scan.metrics,
    }  # fmt: skip
