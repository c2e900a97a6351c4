from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from oversight.choices import JobStatus, JobTrigger
from oversight.models import InferenceRun
from oversight.services.truth import inference_run_execute, inference_run_start
from projects.commands import project_from_slug


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _interval(interval: list[float] | None) -> str:
    return "-" if interval is None else f"{interval[0]:.2f}-{interval[1]:.2f}"


class Command(BaseCommand):
    help = (
        "Infer every item's label from all its sources (annotators, labeling functions, external predictions, "
        "the end model, the active learner) with one Dawid-Skene model, store the posteriors and each "
        "source's estimated reliability, and send doubtful items to review. Runs now, in this process."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug", help="The project's slug.")
        parser.add_argument("--json", action="store_true", help="Print the run as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        project = project_from_slug(options["slug"])
        try:
            started = inference_run_start(project=project, user=None, trigger=JobTrigger.CLI, enqueue=False)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        run = inference_run_execute(run_id=started.job.pk)
        if run.status != JobStatus.SUCCEEDED:
            raise CommandError(f"Inference run {run.number} failed: {run.error}")
        if options["json"]:
            self.stdout.write(json.dumps(_as_json(run), indent=2))
            return
        self._report(run)

    def _report(self, run: InferenceRun) -> None:
        metrics = run.metrics
        selection = run.selection
        self.stdout.write(
            f"Inference run {run.number}: {run.engine} ({run.variant}, chosen by {selection.get('method')}), "
            f"{metrics['n_items']} items, {sum(metrics['n_answers'].values())} answers, "
            f"{metrics['n_fixed']} gold items held fixed, {metrics['iterations']} iterations"
            f"{'' if metrics['converged'] else ' (not converged)'}, {metrics['seconds']['total']:.1f} s."
        )
        self.stdout.write(
            f"Inferred label differs from the annotators' majority: {metrics['disagreements']}; "
            f"posterior under {metrics['low_posterior_below']}: {metrics['low_posterior']}; "
            f"sent to review: {metrics['review_added']}."
        )
        if note := metrics.get("note"):
            self.stdout.write(note)
        self.stdout.write("")
        self.stdout.write(f"{'source':<32} {'kind':<10} {'answers':>8} {'accuracy':>9} {'95% interval':>13}")
        for source in run.sources:
            self.stdout.write(
                f"{source['name'][:32]:<32} {source['kind']:<10} {source['answered']:>8} "
                f"{_percent(source['accuracy']):>9} {_interval(source['interval']):>13}"
            )


def _as_json(run: InferenceRun) -> dict[str, Any]:
    return {
        "run": run.number, "status": run.status, "engine": run.engine, "engine_version": run.engine_version,
        "variant": run.variant, "selection": run.selection, "labels": run.labels, "metrics": run.metrics,
        "sources": run.sources,
    }  # fmt: skip
