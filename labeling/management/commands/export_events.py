from __future__ import annotations

import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from labeling.selectors.activity import (
    EXPORT_FORMATS,
    interaction_event_list_for_user,
    interaction_events_export_lines,
)
from projects.commands import project_from_slug


class Command(BaseCommand):
    help = "Write a project's interaction events as JSON Lines or CSV (to a file, or to standard output)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--format", choices=sorted(EXPORT_FORMATS), default="jsonl")
        parser.add_argument("--output", default="", help="File to write (default: standard output)")
        parser.add_argument("--type", action="append", default=[], help="Only this event type (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        project = project_from_slug(options["slug"])
        # The command line reads without a member's scope: everyone's events.
        events = interaction_event_list_for_user(project=project, viewer=None)
        if options["type"]:
            events = events.filter(type__in=options["type"])
        lines = interaction_events_export_lines(events=events, fmt=options["format"])
        if not options["output"]:
            sys.stdout.writelines(lines)
            return
        path = Path(options["output"])
        partial = path.with_name(path.name + ".partial")
        with partial.open("w", encoding="utf-8", newline="") as handle:
            count = sum(handle.write(line) >= 0 for line in lines)
        partial.replace(path)  # a failed export leaves no half-written file behind
        self.stderr.write(f"Wrote {count} lines to {path}.")
