from __future__ import annotations

import json
import sys
import time
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from projects.commands import project_from_slug
from weak_supervision.choices import EndModelStatus, RunStatus
from weak_supervision.models import LabelModelRun
from weak_supervision.selectors import run_progress
from weak_supervision.services.runs import CHUNK_SIZE, run_start

POLL_SECONDS = 0.5


def _end_model_pending(run: LabelModelRun) -> bool:
    """A succeeded run's end model is trained by its own task after the run: waited for too."""
    status = ((run.metrics or {}).get("end_model") or {}).get("status")
    return run.status == RunStatus.SUCCEEDED and status == EndModelStatus.PENDING


class Command(BaseCommand):
    help = (
        "Apply every active labeling function to every item and fit the label model. In the embedded default "
        "the run happens in this process; in production mode it waits for the workers."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug")
        parser.add_argument(
            "--chunk-size", type=int, default=CHUNK_SIZE, help="Items per chunk (one task each)"
        )
        parser.add_argument("--timeout", type=float, default=3600, help="Seconds to wait for the workers")
        parser.add_argument("--json", action="store_true", help="Print the metrics as JSON on the last line")

    def handle(self, *args: Any, **options: Any) -> None:
        project = project_from_slug(options["slug"])
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1.")
        try:
            run = run_start(project=project, user=None, chunk_size=options["chunk_size"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        run = self._wait(run, options["timeout"])
        if run.status != RunStatus.SUCCEEDED:
            raise CommandError(
                f"Run {run.number} failed: {run.error.strip().splitlines()[-1] if run.error else ''}"
            )
        self._print(run)
        if options["json"]:
            summary = {"project": project.slug, "run": run.number, "coverage": run.metrics["coverage"],
                       "aggregator": run.metrics.get("aggregator"), "end_model": run.metrics.get("end_model"),
                       "splits": run.metrics["splits"], "warnings": run.metrics.get("warnings", [])}  # fmt: skip
            self.stdout.write(json.dumps(summary))

    def _wait(self, run: LabelModelRun, timeout: float) -> LabelModelRun:
        deadline = time.monotonic() + timeout
        with tqdm(total=100, unit="%", desc=f"run {run.number}", file=sys.stderr, disable=None) as bar:
            while True:
                run.refresh_from_db()
                percent = run_progress(run=run)["percent"]
                bar.update(percent - bar.n)
                if run.is_finished and not _end_model_pending(run):
                    return run
                if time.monotonic() > deadline:
                    raise CommandError(
                        f"Run {run.number} did not finish within {timeout:.0f} s; is a worker running?"
                    )
                time.sleep(POLL_SECONDS)

    def _print(self, run: LabelModelRun) -> None:
        self.stdout.write(f"Run {run.number}: {run.item_count} items, {len(run.lf_versions)} labeling functions, "
                          f"coverage {run.metrics['coverage']:.1%}")  # fmt: skip
        spans = run.metrics.get("kind") == "spans"
        for split, entry in run.metrics["splits"].items():
            line = f"  {split}: {entry['n_items']} items, {entry['n_gold']} with gold, coverage {entry['coverage']:.1%}"
            for source in ("weak_label", "majority_vote", "end_model"):
                if source in entry:
                    scores, name = entry[source], source.replace("_", " ")
                    line += (
                        f"; {name} span P/R/F1 {scores['precision']:.3f}/{scores['recall']:.3f}/{scores['f1']:.3f}"
                        if spans
                        else f"; {name} accuracy {scores['accuracy']:.3f} macro F1 {scores['macro_f1']:.3f}"
                    )
            self.stdout.write(line)
        aggregator = run.metrics.get("aggregator") or {}
        if isinstance(aggregator, dict) and aggregator.get("name"):
            self.stdout.write(
                f"  aggregator: {aggregator['name']} (chosen on {aggregator.get('selected_on')})"
            )
        for warning in run.metrics.get("warnings", []):
            self.stdout.write(f"  warning [{warning['code']}]: {warning['message']}")
        end = run.metrics.get("end_model") or {}
        if end:
            detail = f"trained on {end['n_train']} items in {end['seconds']} s" if "n_train" in end else ""
            detail = (
                detail or end.get("reason", "") or (end.get("error", "").strip().splitlines() or [""])[-1]
            )
            self.stdout.write(f"  end model: {end['status']}{'; ' + detail if detail else ''}")
