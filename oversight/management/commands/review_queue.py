from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from oversight.selectors.review import review_queue_counts
from oversight.services.review import review_queue_refresh
from projects.commands import project_from_slug


class Command(BaseCommand):
    help = "Show a project's review queue (open items per reason); --refresh rebuilds it from the data first."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--refresh", action="store_true", help="Scan every item for review reasons first")
        parser.add_argument("--json", action="store_true", help="Print the counts as JSON (last line)")

    def handle(self, *args: Any, **options: Any) -> None:
        project = project_from_slug(options["slug"])
        added = review_queue_refresh(project=project) if options["refresh"] else {}
        counts = review_queue_counts(project=project)
        if options["json"]:
            self.stdout.write(json.dumps({"added": added, "counts": counts}))
            return
        if added:
            self.stdout.write(f"Added or given a new reason: {sum(added.values())} item(s)")
        for name, count in counts.items():
            self.stdout.write(f"{name:>14}  {count}")
