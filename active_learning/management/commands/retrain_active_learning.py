from __future__ import annotations

import json
import time
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from active_learning.choices import ModelStatus, Trigger
from active_learning.models import LearnerModel
from active_learning.services.training import learner_retrain
from projects.commands import project_from_slug

POLL_SECONDS = 0.5


class Command(BaseCommand):
    help = (
        "Retrain the project's active-learning model, rescore the pool and write the queue priorities. In the "
        "embedded default this happens in this process; in production mode it waits for the workers."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--timeout", type=float, default=3600, help="Seconds to wait for the workers")
        parser.add_argument("--json", action="store_true", help="Print the model as JSON on the last line")

    def handle(self, *args: Any, **options: Any) -> None:
        project = project_from_slug(options["slug"])
        try:
            model = learner_retrain(project=project, trigger=Trigger.MANUAL)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        deadline = time.monotonic() + options["timeout"]
        model.refresh_from_db()
        while not model.is_finished:
            if time.monotonic() > deadline:
                raise CommandError(
                    f"Model {model.number} is still {model.status} after {options['timeout']} s."
                )
            time.sleep(POLL_SECONDS)
            model.refresh_from_db()
        if model.status != ModelStatus.SUCCEEDED:
            raise CommandError(f"Model {model.number} failed: {model.error.strip().splitlines()[-1:]}")
        self._print(model)
        if options["json"]:
            keys = (
                "number",
                "strategy",
                "n_labels",
                "n_weak",
                "metrics",
                "pool_size",
                "prioritized",
                "seconds",
            )
            self.stdout.write(json.dumps({key: getattr(model, key) for key in keys}))

    def _print(self, model: LearnerModel) -> None:
        metrics = model.metrics
        held = f"accuracy {metrics['accuracy']:.4f}, macro F1 {metrics['macro_f1']:.4f} on {metrics['n_heldout']} " \
            "held-out gold items" if metrics.get("n_heldout") else "no held-out gold items yet"  # fmt: skip
        self.stdout.write(
            f"Model {model.number} ({model.strategy}): {model.n_labels} human labels, {model.n_weak} weak; {held}. "
            f"Ranked {model.pool_size} open items; {model.prioritized} given a queue priority."
        )
