"""`manage.py import_jobs_recover [--stale-seconds N]`: the import sweep that beat runs every minute, by hand.

In embedded mode there is no beat: `make run` calls this with `--stale-seconds 0` as it starts, so that an
import whose process was killed is run again (or failed with the reason) instead of staying `running`.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError

from imports.services.jobs import import_jobs_recover


class Command(BaseCommand):
    help = "Runs again, or fails with the reason, imports whose worker died or was stopped."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--stale-seconds",
            type=int,
            default=None,
            help="Seconds without a heartbeat after which a running import counts as dead "
            "(default: IMPORT_JOB_STALE_SECONDS; 0 where no worker can be running).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["stale_seconds"] is not None and options["stale_seconds"] < 0:
            raise CommandError("--stale-seconds must be 0 or more.")
        try:
            result = import_jobs_recover(stale_seconds=options["stale_seconds"])
        except OperationalError as exc:  # SQLite busy with an import in another process: nothing is dead
            self.stderr.write(f"Imports were not checked: the database is busy ({exc}).")
            return
        self.stdout.write(
            f"Imports run again: {len(result.requeued)}; failed with the reason: {len(result.failed)}."
        )
