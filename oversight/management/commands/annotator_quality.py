from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from oversight.selectors.quality import AnnotatorQuality, annotator_quality_csv_lines, annotator_quality_list
from projects.commands import project_from_slug

# (heading, how to show a row's figure): the table keeps to what fits a terminal; --csv and --json have all.
TABLE_COLUMNS: list[tuple[str, Any]] = [
    ("username", lambda row: row.username),
    ("role", lambda row: row.role),
    ("submitted", lambda row: row.submitted),
    ("items/h", lambda row: row.items_per_hour),
    ("median s", lambda row: row.median_seconds),
    ("skip", lambda row: row.skip_rate),
    ("consensus", lambda row: _share(row.consensus_agreement, row.consensus_n)),
    ("gold", lambda row: _share(row.gold_agreement, row.gold_n)),
    ("checks", lambda row: f"{row.checks_correct}/{row.checks_n}" if row.checks_n else None),
    ("95% CI", lambda row: f"{row.check_ci_low:.2f}-{row.check_ci_high:.2f}" if row.checks_n else None),
    ("estimated", lambda row: _estimate(row)),
    ("fast", lambda row: row.fast_answers),
    ("drift speed", lambda row: row.drift_speed),
    ("drift agree", lambda row: row.drift_consensus),
    ("flag", lambda row: "BELOW" if row.below_threshold else ""),
]


def _share(value: float | None, n: int) -> str | None:
    return None if value is None else f"{value:.2f} of {n}"


def _estimate(row: AnnotatorQuality) -> str | None:
    """Truth inference's estimated accuracy with its 95% interval."""
    if row.estimated_accuracy is None:
        return None
    if row.estimated_ci_low is None or row.estimated_ci_high is None:
        return f"{row.estimated_accuracy:.2f}"
    return f"{row.estimated_accuracy:.2f} ({row.estimated_ci_low:.2f}-{row.estimated_ci_high:.2f})"


def _table(rows: list[AnnotatorQuality]) -> list[str]:
    cells = [[heading for heading, _ in TABLE_COLUMNS]]
    cells += [
        ["-" if (value := show(row)) is None else str(value) for _, show in TABLE_COLUMNS] for row in rows
    ]
    widths = [max(len(line[index]) for line in cells) for index in range(len(TABLE_COLUMNS))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    ]


class Command(BaseCommand):
    help = (
        "Show a project's annotator quality: speed, agreement with consensus and gold, gold-check accuracy "
        "with its 95% interval, fast answers, drift and truth inference's estimated accuracy (a table, or every "
        "column as JSON or CSV, with the estimates per class and the confusion matrices)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug")
        output = parser.add_mutually_exclusive_group()
        output.add_argument("--json", action="store_true", help="Print the rows as one JSON list, last line")
        output.add_argument("--csv", action="store_true", help="Write the rows as CSV, every column")

    def handle(self, *args: Any, **options: Any) -> None:
        project = project_from_slug(options["slug"])
        # The command line reads without a member's scope: everyone's rows.
        rows = annotator_quality_list(project=project, viewer=None)
        if options["json"]:
            self.stdout.write(json.dumps([row.to_json() for row in rows]))
        elif options["csv"]:
            for line in annotator_quality_csv_lines(rows):
                self.stdout.write(line, ending="")
        else:
            for line in _table(rows):
                self.stdout.write(line)
