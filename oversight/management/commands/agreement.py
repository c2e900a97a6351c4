from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from oversight.selectors.agreement import AgreementReport, LabelAgreement, agreement_get
from oversight.selectors.span_agreement import SpanAgreementReport
from projects.commands import project_from_slug
from projects.models import Project

FIGURES = ("n_items", "percent_agreement", "cohen_kappa_mean", "fleiss_kappa", "krippendorff_alpha")


def _cell(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    cells = [header, *[[_cell(value) for value in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in cells]


def _figures_row(name: str, figures: AgreementReport | LabelAgreement) -> list[object]:
    return [name, *(getattr(figures, field) for field in FIGURES)]


def _report_lines(project: Project, report: AgreementReport) -> list[str]:
    header = ["", "items", "percent", "cohen (mean)", "fleiss", "krippendorff"]
    lines = [
        f"{project.name}: {report.n_items} items rated at least twice, by {report.n_annotators} annotators."
    ]
    if report.multi_label:
        lines.append(
            "Multi-label: percent is exact-set agreement; kappas and alpha are means over the labels."
        )
    lines.append("")
    lines += _table(header, [_figures_row("overall", report)])
    lines += ["", "Per label:"]
    lines += _table(header, [_figures_row(key, figures) for key, figures in report.per_label.items()])
    pair_rows: list[list[object]] = [
        [pair.a, pair.b, pair.n_items, pair.percent_agreement, pair.cohen_kappa] for pair in report.pairs
    ]
    lines += ["", "Pairs:", *_table(["a", "b", "items", "percent", "cohen"], pair_rows)]
    return lines


def _span_lines(project: Project, report: SpanAgreementReport) -> list[str]:
    lines = [
        f"{project.name}: {report.n_items} items answered at least twice, by {report.n_annotators} annotators.",
        "Spans: F1 between annotators (pairs pooled), exact and overlapping match; alpha over "
        f"{report.n_tokens} tokens.",
        "",
    ]
    lines += _table(
        ["", "exact F1", "overlap F1", "krippendorff"],
        [["overall", report.exact_f1, report.overlap_f1, report.krippendorff_alpha]],
    )
    type_rows: list[list[object]] = [
        [key, row.n_spans, row.exact_f1, row.overlap_f1] for key, row in report.per_type.items()
    ]
    lines += ["", "Per type:", *_table(["type", "spans", "exact F1", "overlap F1"], type_rows)]
    pair_rows: list[list[object]] = [
        [pair.a, pair.b, pair.n_items, pair.exact_f1, pair.overlap_f1] for pair in report.pairs
    ]
    lines += ["", "Pairs:", *_table(["a", "b", "items", "exact F1", "overlap F1"], pair_rows)]
    return lines


class Command(BaseCommand):
    help = "Print a project's inter-annotator agreement: overall, per label and per annotator pair."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--json", action="store_true", help="Print the report as one line of JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        project = project_from_slug(options["slug"])
        report = agreement_get(project=project)
        if options["json"]:
            self.stdout.write(json.dumps(report.to_json()))
            return
        if isinstance(report, SpanAgreementReport):
            self.stdout.write("\n".join(_span_lines(project, report)))
            return
        self.stdout.write("\n".join(_report_lines(project, report)))
