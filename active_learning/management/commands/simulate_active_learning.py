from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from active_learning.services.simulations import simulation_compute
from projects.commands import project_from_slug


class Command(BaseCommand):
    help = (
        "Replay the active-learning loop with the project's gold labels as the oracle (pool: the train split; "
        "scored on the test split, or a held-out fifth) and compare strategies. Runs in this process."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug")
        parser.add_argument(
            "--strategies",
            default="default,random",
            help="Comma-separated; 'default' is the project's strategy",
        )
        parser.add_argument("--budget", type=int, default=200, help="Labels to spend")
        parser.add_argument("--step", type=int, default=20, help="Labels between retrains")
        parser.add_argument("--seeds", type=int, default=3)
        parser.add_argument("--metric", default="accuracy", help="accuracy, macro_f1 or f1:LABEL")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON on the last line")

    def handle(self, *args: Any, **options: Any) -> None:
        project = project_from_slug(options["slug"])

        def progress(strategy: str, seed: int) -> None:
            print(f"{strategy}: seed {seed + 1} of {options['seeds']} done", file=sys.stderr)

        try:
            result = simulation_compute(
                project=project, strategies=options["strategies"].split(","), budget=options["budget"],
                step=options["step"], seeds=options["seeds"], metric=options["metric"], progress=progress,
            )  # fmt: skip
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self._print(result)
        if options["json"]:
            self.stdout.write(json.dumps(result))

    def _print(self, result: dict[str, Any]) -> None:
        metric = result["metric"]
        self.stdout.write(
            f"{metric} of a model trained on the whole pool ({result['pool']} items, scored on {result['test']}): "
            f"{result['full_train']:.4f}; 95% of it: {0.95 * result['full_train']:.4f}"
        )
        for name, data in result["strategies"].items():
            marker = " (project default)" if name == result["default"] else ""
            reached = data["labels_to_95"] if data["labels_to_95"] is not None else "not reached"
            self.stdout.write(f"\n{name}{marker}: labels to 95% = {reached}")
            for n, value in data["curve"]:
                self.stdout.write(f"  {n:>6} labels  {value:.4f}")
