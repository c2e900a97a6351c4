from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from imports.parsing.errors import ImportFileError
from imports.parsing.rows import ON_DUPLICATE_CHOICES, ON_DUPLICATE_FAIL
from imports.selectors import import_job_evaluation_labels
from imports.services.jobs import import_job_create, import_job_fail, import_job_run, import_options_build
from imports.services.pipeline import delimiter_parse, eval_only_splits_parse
from projects.choices import ImportFormat, OnConflict
from projects.commands import project_from_slug

ERROR_EVAL_ONLY_BLANK = (
    "--eval-only-splits: give split names (train, valid, test) or none; leave the option out for the format's "
    "default."
)


def _label_map(value: str) -> dict[str, str]:
    mapping = {}
    for pair in filter(None, (part.strip() for part in value.split(","))):
        raw, sep, label = pair.partition("=")
        if not sep:
            raise CommandError(f"--label-map: '{pair}' is not of the form value=label.")
        mapping[raw.strip()] = label.strip()
    return mapping


def _lines(summary: dict[str, Any]) -> str:
    lines = [str(line) for line in summary["duplicate_lines"]]
    return ", ".join(lines[:20]) + (", ..." if summary["duplicates_skipped"] > 20 else "")


class Command(BaseCommand):
    help = (
        "Import items into a project from CSV/TSV, JSONL, a JSON array, Parquet or a WRENCH folder; a span "
        "project also from CoNLL (and JSONL with character offsets, a WRENCH sequence-tagging folder)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("path")
        parser.add_argument("--format", choices=ImportFormat.values, default="")
        parser.add_argument("--text-field", default="text")
        parser.add_argument("--id-field", default="", help="Default: the row number is the id")
        parser.add_argument("--label-field", default="")
        parser.add_argument("--split-field", default="")
        parser.add_argument("--annotator-field", default="")
        parser.add_argument(
            "--metadata-fields", default="", help="Comma-separated; default: all other fields"
        )
        parser.add_argument("--label-map", default="", help="Raw value to label, e.g. 0=ham,1=spam")
        parser.add_argument(
            "--delimiter",
            default="",
            help="CSV delimiter: one character, or tab, comma, semicolon, pipe, space",
        )
        parser.add_argument("--no-header", action="store_true", help="CSV has no header row")
        parser.add_argument("--columns", default="", help="Column names for a CSV without header")
        parser.add_argument("--on-conflict", choices=OnConflict.values, default=OnConflict.SKIP)
        parser.add_argument(
            "--on-duplicate", choices=ON_DUPLICATE_CHOICES, default=ON_DUPLICATE_FAIL,
            help="An id repeated in the file: fail at its line (default), or skip the row and report it",
        )  # fmt: skip
        parser.add_argument(
            "--eval-only-splits", default=None, metavar="SPLITS",
            help="Splits whose labels only score, never train: e.g. test or train,test, or none. "
            "Default: train,test for a WRENCH folder, none otherwise",
        )  # fmt: skip
        parser.add_argument(
            "--tag-scheme", choices=["bio", "iob1"], default="",
            help="CoNLL (span projects): the tags' scheme; default: detected (a file in which no B- tag opens a "
            "span is IOB1). Both read the same spans from a well-formed file",
        )  # fmt: skip
        parser.add_argument("--json", action="store_true", help="Print a JSON summary as the last line")

    def handle(self, *args: Any, **options: Any) -> None:
        project = project_from_slug(options["slug"])
        path = Path(options["path"]).expanduser().resolve()
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        try:
            delimiter = delimiter_parse(options["delimiter"])
        except ValidationError as exc:
            raise CommandError(f"--delimiter: {exc.messages[0]}") from exc
        if options["eval_only_splits"] is not None and not options["eval_only_splits"].strip():
            raise CommandError(ERROR_EVAL_ONLY_BLANK)
        try:
            eval_only_splits = eval_only_splits_parse(options["eval_only_splits"])
        except ValidationError as exc:
            raise CommandError(f"--eval-only-splits: {exc.messages[0]}") from exc
        import_options = import_options_build(
            format=options["format"], on_conflict=options["on_conflict"], text_field=options["text_field"],
            id_field=options["id_field"], label_field=options["label_field"], split_field=options["split_field"],
            annotator_field=options["annotator_field"],
            metadata_fields=[f.strip() for f in options["metadata_fields"].split(",") if f.strip()],
            label_map=_label_map(options["label_map"]), delimiter=delimiter, has_header=not options["no_header"],
            columns=[c.strip() for c in options["columns"].split(",") if c.strip()],
            eval_only_splits=eval_only_splits, on_duplicate=options["on_duplicate"],
            tag_scheme=options["tag_scheme"],
        )  # fmt: skip
        bar = tqdm(total=100, unit="%", desc="import", file=sys.stderr, disable=None,
                   bar_format="{l_bar}{bar}| {n:.0f}% {postfix}")  # fmt: skip

        def progress(rows: int, fraction: float) -> None:
            bar.n = round(fraction * 100, 1)
            bar.set_postfix_str(f"{rows} rows", refresh=True)

        job = None
        try:
            job = import_job_create(project=project, created_by=None, options=import_options,
                                    source_path=str(path), enqueue=False)  # fmt: skip
            import_job_run(job=job, on_progress=progress)
        except ImportFileError as exc:
            raise CommandError(f"{path.name}: {exc.message} Nothing was imported.") from exc
        except Exception as exc:
            # No worker will retry a command's import: the job is failed with the reason, never left pending.
            reason = f"The import crashed ({type(exc).__name__}: {exc}); nothing was imported."
            if job is not None:
                import_job_fail(job=job, reason=reason)
            raise CommandError(f"{path.name}: {reason}") from exc
        finally:
            bar.close()
        evaluation_labels = import_job_evaluation_labels(job=job)
        result = job.options.get("result") or {}
        # The import's own time (read, check, write, commit), as items_import measured it: not Django's start-up.
        seconds = float(result.get("seconds") or 0.0)
        duplicates = int(result.get("duplicates_skipped") or 0)
        summary = {
            "project_id": project.pk, "slug": project.slug, "import_job_id": job.pk, "rows": job.rows_total,
            "items_created": job.items_created, "items_updated": job.items_updated,
            "items_skipped": job.items_skipped, "annotations_imported": job.annotations_imported,
            "votes_imported": job.votes_imported, "evaluation_labels_imported": evaluation_labels,
            "eval_only_splits": job.options.get("eval_only_splits") or [],
            "items_total": project.items.count(), "duplicates_skipped": duplicates,
            "duplicate_lines": result.get("duplicate_lines") or [], "seconds": round(seconds, 3),
            "items_per_second": round(job.rows_total / seconds, 1) if seconds > 0 else None,
            "gold_labels_imported": int(result.get("gold_labels_imported") or 0),
            "tag_scheme": result.get("tag_scheme") or "",
        }  # fmt: skip
        if options["json"]:
            self.stdout.write(json.dumps(summary))
        else:
            self.stdout.write(self.style.SUCCESS(
                f"Imported {job.rows_total} rows into '{project.slug}': {job.items_created} created, "
                f"{job.items_updated} updated, {job.items_skipped} skipped, "
                f"{job.annotations_imported} annotations, {evaluation_labels} evaluation-only labels, "
                f"{job.votes_imported} LF votes"
                + (f", {summary['gold_labels_imported']} gold labels" if summary["gold_labels_imported"] else "")
                + (f", {duplicates} rows with a repeated id skipped (lines {_lines(summary)})" if duplicates else "")
                + f", in {seconds:.2f} s."
            ))  # fmt: skip
