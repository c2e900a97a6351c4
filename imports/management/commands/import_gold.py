from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from oversight.services.review import gold_checks_set, known_answers_parse
from projects.commands import project_from_slug


class Command(BaseCommand):
    help = (
        "Store known answers for items (gold labels), from a CSV file with the columns external_id and label "
        "(several labels separated by |). All or nothing: one bad line stores none. By default they become "
        "gold checks, mixed into analysts' queues."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("path")
        parser.add_argument("--no-check", action="store_true", help="Store them as gold labels only")

    def handle(self, *args: Any, **options: Any) -> None:
        project = project_from_slug(options["slug"])
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            answers = known_answers_parse(path.read_text(encoding="utf-8"))
            stored = gold_checks_set(
                project=project, answers=answers, by=None, is_check=not options["no_check"]
            )
        except ValidationError as exc:
            raise CommandError(f"{path}: {' '.join(exc.messages)}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from exc
        self.stdout.write(self.style.SUCCESS(f"Stored {stored} known answer(s) in {project.slug}."))
